package io.streamlearn.models;

import java.util.List;

/**
 * The top items per user of a batch, from {@link Recommender}, best first; for recurrent models
 * also each user's new {@link RecurrentState}.
 */
public final class Recommendations {

    private final List<List<ScoredItem>> items;
    private final RecurrentState[] states;

    Recommendations(List<List<ScoredItem>> items, RecurrentState[] states) {
        this.items = items;
        this.states = states;
    }

    /** The first {@code n} rows: drops the filler rows of {@link RowBlocks}. */
    Recommendations head(int n) {
        if (n == items.size()) {
            return this;
        }
        return new Recommendations(
                items.subList(0, n), states == null ? null : java.util.Arrays.copyOf(states, n));
    }

    /** Returns the number of rows. */
    public int size() {
        return items.size();
    }

    /** Returns a row's items, best first (fewer than k when the vocabulary holds fewer). */
    public List<ScoredItem> items(int row) {
        return items.get(row);
    }

    /** Returns a row's new recurrent state, or null for a model without one. */
    public RecurrentState state(int row) {
        return states == null ? null : states[row];
    }
}
