package io.streamlearn.jobs;

import io.streamlearn.models.ModelState;
import java.util.ArrayDeque;
import java.util.Locale;

/**
 * Decides whether a new model version may serve. For each of the most recent batches (at most
 * {@code window}, and only since the serving version started serving) it keeps two prequential
 * losses: the learner's own (each batch scored before the learner stepped on it) and the serving
 * version's on the same batch. A candidate is promoted when
 *
 * <pre>
 * mean(candidate losses) &lt;= (1 + maxLossIncrease) * mean(serving losses)
 * </pre>
 *
 * and never when its loss or any of its weights is NaN or infinite. The first version serves as
 * soon as its weights are finite. Comparing on the same batches makes the test fair in a
 * non-stationary stream: both versions face the same recent data, neither has trained on it.
 */
final class PromotionGuard {
    private final int window;
    private final double maxLossIncrease;
    private final ArrayDeque<double[]> recent = new ArrayDeque<>();

    PromotionGuard(int window, double maxLossIncrease) {
        this.window = window;
        this.maxLossIncrease = maxLossIncrease;
    }

    /** One batch: the learner's loss before its step, and the serving version's loss. */
    void record(double candidateLoss, double servingLoss) {
        recent.addLast(new double[] {candidateLoss, servingLoss});
        while (recent.size() > window) {
            recent.removeFirst();
        }
    }

    /** Forgets the recorded batches: the serving version changed, so they compare another one. */
    void reset() {
        recent.clear();
    }

    Decision decide(ModelState candidate, boolean serving) {
        if (!candidate.weightsFinite()) {
            return new Decision(false, null, null, "rejected: a weight is NaN or infinite");
        }
        if (!serving) {
            return new Decision(true, null, null, "promoted: first version");
        }
        if (recent.isEmpty()) {
            return new Decision(true, null, null, "promoted: no batch to compare on");
        }
        double candidateLoss = 0;
        double servingLoss = 0;
        for (double[] pair : recent) {
            candidateLoss += pair[0];
            servingLoss += pair[1];
        }
        candidateLoss /= recent.size();
        servingLoss /= recent.size();
        if (!Double.isFinite(candidateLoss)) {
            return new Decision(
                    false, candidateLoss, servingLoss, "rejected: the candidate's loss is NaN");
        }
        double limit = (1 + maxLossIncrease) * servingLoss;
        if (Double.isFinite(servingLoss) && candidateLoss > limit) {
            return new Decision(
                    false,
                    candidateLoss,
                    servingLoss,
                    String.format(
                            Locale.ROOT,
                            "rejected: loss %.6g over %d batches is above %.6g (serving %.6g)",
                            candidateLoss,
                            recent.size(),
                            limit,
                            servingLoss));
        }
        return new Decision(
                true,
                candidateLoss,
                servingLoss,
                String.format(
                        Locale.ROOT,
                        "promoted: loss %.6g over %d batches, serving %.6g",
                        candidateLoss,
                        recent.size(),
                        servingLoss));
    }

    /** The recorded pairs, flattened, for operator state. */
    double[] toArray() {
        double[] out = new double[recent.size() * 2];
        int i = 0;
        for (double[] pair : recent) {
            out[i++] = pair[0];
            out[i++] = pair[1];
        }
        return out;
    }

    void restore(double[] pairs) {
        recent.clear();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            record(pairs[i], pairs[i + 1]);
        }
    }

    /** The outcome, with the losses behind it (null where there were none to compare). */
    record Decision(boolean promote, Double candidateLoss, Double servingLoss, String note) {}
}
