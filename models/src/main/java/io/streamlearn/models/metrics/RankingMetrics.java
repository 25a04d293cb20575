package io.streamlearn.models.metrics;

import java.util.List;

/**
 * Prequential ranking quality of next-item recommendations, each list scored when the true next
 * item arrives. With r the 1-based rank of the true item in the list (none if absent):
 *
 * <pre>
 * HR@K   = mean of [r &lt;= K]                      hit rate
 * NDCG@K = mean of [r &lt;= K] / log2(r + 1)        one relevant item, so IDCG = 1
 * MRR@K  = mean of [r &lt;= K] / r                  reciprocal rank, cut at K
 * </pre>
 *
 * averaged with an {@link Ewma} of the given horizon. Not thread-safe.
 */
public final class RankingMetrics {

    private final int k;
    private final Ewma hits;
    private final Ewma ndcg;
    private final Ewma mrr;

    /**
     * Creates the metrics.
     *
     * @param k the cut-off, at least 1
     * @param horizon lists of memory; {@code Long.MAX_VALUE} for all of them
     */
    public RankingMetrics(int k, long horizon) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1 but was " + k);
        }
        this.k = k;
        hits = new Ewma(horizon);
        ndcg = new Ewma(horizon);
        mrr = new Ewma(horizon);
    }

    /**
     * Scores one list.
     *
     * @param recommended the recommended ids, best first
     * @param actual the id that came next
     */
    public void add(List<String> recommended, String actual) {
        addRank(recommended.indexOf(actual) + 1);
    }

    /**
     * Scores one list by the rank of the true item.
     *
     * @param rank its 1-based rank, or 0 if the list did not hold it
     */
    public void addRank(int rank) {
        if (rank < 0) {
            throw new IllegalArgumentException("rank must be at least 0 but was " + rank);
        }
        boolean hit = rank >= 1 && rank <= k;
        hits.add(hit ? 1 : 0);
        ndcg.add(hit ? 1 / (Math.log(rank + 1) / Math.log(2)) : 0);
        mrr.add(hit ? 1.0 / rank : 0);
    }

    /** Returns the cut-off K. */
    public int k() {
        return k;
    }

    /** Returns HR@K; NaN before the first list. */
    public double hitRate() {
        return hits.value();
    }

    /** Returns NDCG@K; NaN before the first list. */
    public double ndcg() {
        return ndcg.value();
    }

    /** Returns MRR@K; NaN before the first list. */
    public double mrr() {
        return mrr.value();
    }

    /** Returns how many lists were scored. */
    public long count() {
        return hits.count();
    }
}
