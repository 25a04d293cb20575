package io.streamlearn.models;

/**
 * One recommended item: its id and its probability under the model's softmax over every item in the
 * vocabulary.
 *
 * @param itemId the item id
 * @param score the probability, in (0, 1]
 */
public record ScoredItem(String itemId, float score) {}
