package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.metrics.RankingMetrics;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RecommenderTest {

    private static final Logger LOG = LoggerFactory.getLogger(RecommenderTest.class);

    private static final ModelConfig GRU =
            ModelConfig.builder()
                    .setTask(Task.NEXT_ITEM)
                    .setFamily(Family.GRU)
                    .setWindow(6)
                    .optHiddenSize(16)
                    .optItemCapacity(64)
                    .optLearningRate(0.01f)
                    .build();

    private static ModelState trained;

    @BeforeAll
    static void train() {
        Clickstream stream = new Clickstream(4L, 16, 40, 10);
        try (OnlineLearner learner = new OnlineLearner(GRU)) {
            for (int i = 0; i < 60; i++) {
                learner.train(stream.batch(16));
            }
            learner.nextVersion();
            trained = learner.snapshot();
        }
    }

    @Test
    void topKIsSortedAndSkipsExcludedItemsWithoutShorteningTheList() {
        String[][] histories = {{"item-1", "item-10"}, {"item-3"}};
        try (Recommender recommender = Recommender.create(trained)) {
            Recommendations plain = recommender.recommend(histories, 5, null);
            List<ScoredItem> first = plain.items(0);
            assertEquals(5, first.size());
            for (int i = 1; i < first.size(); i++) {
                assertTrue(first.get(i - 1).score() >= first.get(i).score());
            }
            assertTrue(first.get(0).score() > 0 && first.get(0).score() <= 1);
            Set<String> seen = Set.of(first.get(0).itemId(), first.get(2).itemId());
            Recommendations filtered = recommender.recommend(histories, 5, List.of(seen, Set.of()));
            assertEquals(5, filtered.items(0).size());
            for (ScoredItem item : filtered.items(0)) {
                assertFalse(seen.contains(item.itemId()));
            }
            assertEquals(first.get(1), filtered.items(0).get(0));
            assertEquals(plain.items(1), filtered.items(1));
        }
    }

    @Test
    void unknownIdsReadAsRow0AndKIsCappedByTheVocabulary() {
        try (Recommender recommender = Recommender.create(trained)) {
            Recommendations r =
                    recommender.recommend(new String[][] {{"never-seen"}, {}}, 1000, null);
            assertEquals(recommender.knownItems(), r.items(0).size());
            assertEquals(recommender.knownItems(), r.items(1).size());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> recommender.recommend(new String[][] {{"a"}}, 0, null));
        }
    }

    /**
     * A version loads the vocabulary's rows in use, not the capacity: the rest were never handed
     * out, so it scores the same.
     */
    @Test
    void theNativeItemTablesHoldOnlyTheRowsInUse() {
        int inUse = trained.vocabulary().rowsInUse();
        assertTrue(inUse < GRU.itemCapacity(), "the test needs rows never handed out: " + inUse);
        try (Recommender recommender = Recommender.create(trained)) {
            assertEquals(inUse, recommender.loadedItemRows());
            assertEquals(inUse - 1, recommender.knownItems());
        }
    }

    @Test
    void recurrentUsersAdvanceOneItemAtATime() {
        try (Recommender recommender = Recommender.create(trained)) {
            Recommendations start =
                    recommender.recommend(new String[][] {{"item-1", "item-10"}}, 3, null);
            RecurrentState state = start.state(0);
            assertEquals(1, state.modelVersion());
            Recommendations next =
                    recommender.step(
                            new RecurrentState[] {state}, new String[] {"item-5"}, 3, null);
            assertEquals(1, next.state(0).stepsSinceRecompute());
            assertEquals(3, next.items(0).size());
        }
    }

    /** With a vocabulary far larger than the batch, the sampled softmax learns too. */
    @Test
    void sampledSoftmaxLearnsTheClickstream() {
        ModelConfig config =
                GRU.toBuilder()
                        .setWindow(8)
                        .optHiddenSize(32)
                        .optItemCapacity(512)
                        .optSoftmax(Softmax.SAMPLED)
                        .optNegatives(32)
                        .build();
        Clickstream stream = new Clickstream(9L, 64, 400, 20);
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 300; i++) {
                learner.train(stream.batch(32));
            }
            RankingMetrics metrics = new RankingMetrics(10, Long.MAX_VALUE);
            try (Recommender recommender = Recommender.create(learner.snapshot())) {
                for (int i = 0; i < 10; i++) {
                    Batch b = stream.batch(32);
                    Recommendations r = recommender.recommend(b.histories(), 10, null);
                    for (int row = 0; row < b.size(); row++) {
                        metrics.add(
                                r.items(row).stream().map(ScoredItem::itemId).toList(),
                                b.nextItems()[row]);
                    }
                }
            }
            LOG.info("Sampled softmax (32 of 400 items): HR@10 {}", metrics.hitRate());
            assertTrue(metrics.hitRate() > 0.5, "HR@10 " + metrics.hitRate());
        }
    }

    @Test
    void attentionHasNoIncrementalMode() {
        ModelConfig config = GRU.toBuilder().setFamily(Family.ATTENTION).optHeads(2).build();
        try (OnlineLearner learner = new OnlineLearner(config);
                Recommender recommender = Recommender.create(learner.snapshot())) {
            assertFalse(recommender.isIncremental());
            assertNull(recommender.recommend(new String[][] {{"a"}}, 1, null).state(0));
            assertThrows(
                    UnsupportedOperationException.class,
                    () -> recommender.step(new RecurrentState[1], new String[1], 1, null));
        }
    }
}
