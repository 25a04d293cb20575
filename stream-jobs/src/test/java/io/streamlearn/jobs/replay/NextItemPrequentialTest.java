package io.streamlearn.jobs.replay;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.runtime.ClickstreamGenerator;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.ItemOutput;
import io.streamlearn.models.ModelConfig.Task;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The next-item model on the default generated clickstream with a drift half-way, prequentially,
 * with the job's batch size and publishing interval and the model settings of the recommendation
 * replay ({@code ReplayITCase}), successor slots at their defaults: the untied head learns faster
 * than the tied one, beats transition counting overall by HR@10 and by MRR (before the drift it
 * still trails by HR@10), recovers from the drift sooner, and at the end of the stream ranks about
 * as well as it. {@link #main} prints the full table (HR@10, NDCG@10, MRR@10 before and after the
 * drift) for other settings; docs/feeds/recommendations.md has the figures.
 */
class NextItemPrequentialTest {

    static final int EVENTS = 16_000;
    static final int BATCH = 32;
    static final int PUBLISH_EVERY = 5;

    /** The replay's settings (window 4, hidden 64, learning rate 0.01, 512 item rows). */
    static ModelConfig config(Family family) {
        return ModelConfig.builder()
                .setTask(Task.NEXT_ITEM)
                .setFamily(family)
                .setWindow(4)
                .optHiddenSize(64)
                .optLearningRate(0.01f)
                .optItemCapacity(512)
                .optItemOutput(ItemOutput.UNTIED)
                .build();
    }

    @ParameterizedTest
    @ValueSource(longs = {7L, 11L, 13L})
    void beatsTransitionCountingAndRecoversFromTheDriftSooner(long seed) {
        NextItemPrequential.Result r =
                NextItemPrequential.run(
                        config(Family.GRU), seed, EVENTS, BATCH, PUBLISH_EVERY, false);
        System.out.print(r.table("GRU, untied head, generator seed " + seed));
        assertTrue(
                r.overall().model().hr() > 3 * r.overall().popularity().hr(),
                "overall " + r.overall());
        assertTrue(
                r.modelRecovery() >= 0 && r.modelRecovery() < r.transitionRecovery(),
                "recovery " + r.modelRecovery() + " vs " + r.transitionRecovery());
        assertTrue(r.end()[0].hr() > 0.9 * r.end()[2].hr(), "at the end " + r.end()[0]);
        // Measured 1.06 and 1.08 times transition's MRR (seeds 7 and 11) with the untied head's
        // per-table learning rates, 1.02 without them; 1.07, 1.09 and 1.07 (seed 13) with the
        // successor slots.
        assertTrue(
                r.overall().model().mrr() > 1.03 * r.overall().transition().mrr(),
                "overall MRR "
                        + r.overall().model()
                        + " vs transition "
                        + r.overall().transition());
        // Measured 1.028, 1.024 and 1.029 times transition's HR@10 (seeds 7, 11, 13) with the
        // successor slots; 0.94 without them.
        assertTrue(
                r.overall().model().hr() > 1.01 * r.overall().transition().hr(),
                "overall HR@10 "
                        + r.overall().model()
                        + " vs transition "
                        + r.overall().transition());
    }

    @Test
    void theUntiedHeadLearnsFasterThanTheTiedOne() {
        NextItemPrequential.Result untied =
                NextItemPrequential.run(
                        config(Family.GRU), 5L, EVENTS, BATCH, PUBLISH_EVERY, false);
        NextItemPrequential.Result tied =
                NextItemPrequential.run(
                        config(Family.GRU).toBuilder().optItemOutput(ItemOutput.TIED).build(),
                        5L,
                        EVENTS,
                        BATCH,
                        PUBLISH_EVERY,
                        false);
        System.out.print(untied.table("GRU, untied head, generator seed 5"));
        System.out.print(tied.table("GRU, tied head, generator seed 5"));
        assertTrue(
                untied.overall().model().hr() > 1.15 * tied.overall().model().hr(),
                "untied " + untied.overall().model() + " vs tied " + tied.overall().model());
    }

    /**
     * Prints the table for the replay's settings: arguments family (gru), generator seed (7) and
     * exclude-seen (false); system properties {@code output} (untied or tied), {@code batch},
     * {@code publish}, {@code successors} (slots per item), {@code successorRate}, {@code softmax}
     * (auto, full or sampled), {@code clip} (the gradient clip), {@code lr}, and {@code
     * catalogue=true} for the 100,000-item history with sessions of docs/replay.md (30,000 events,
     * item capacity 10,000, or {@code capacity}).
     */
    public static void main(String[] args) {
        Family family = ModelConfig.parseFamily(args.length > 0 ? args[0] : "gru");
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 7L;
        boolean excludeSeen = args.length > 2 && Boolean.parseBoolean(args[2]);
        ModelConfig.Builder b = config(family).toBuilder();
        b.optItemOutput(ModelConfig.parseItemOutput(System.getProperty("output", "untied")));
        if (System.getProperty("successors") != null) {
            b.optItemSuccessors(Integer.getInteger("successors"));
        }
        if (System.getProperty("successorRate") != null) {
            b.optSuccessorLearningRate(Float.parseFloat(System.getProperty("successorRate")));
        }
        if (System.getProperty("softmax") != null) {
            b.optSoftmax(ModelConfig.parseSoftmax(System.getProperty("softmax")));
        }
        if (System.getProperty("clip") != null) {
            b.optGradientClip(Float.parseFloat(System.getProperty("clip")));
        }
        if (System.getProperty("lr") != null) {
            b.optLearningRate(Float.parseFloat(System.getProperty("lr")));
        }
        int batch = Integer.getInteger("batch", BATCH);
        int publish = Integer.getInteger("publish", PUBLISH_EVERY);
        boolean catalogue = Boolean.getBoolean("catalogue");
        ClickstreamGenerator.Builder stream = ClickstreamGenerator.builder().optSeed(seed);
        int events = EVENTS;
        if (catalogue) {
            stream.optItems(100_000)
                    .optUsers(20_000)
                    .optActiveUsers(500)
                    .optSessionLength(8)
                    .optPopularSuccessors(true);
            events = 30_000;
            b.optItemCapacity(Integer.getInteger("capacity", 10_000));
        }
        long start = System.nanoTime();
        ModelConfig config = b.build();
        NextItemPrequential.Result r =
                NextItemPrequential.run(config, stream, events, batch, publish, excludeSeen);
        System.out.print(
                r.table(
                        config
                                + " batch "
                                + batch
                                + " publish "
                                + publish
                                + " seed "
                                + seed
                                + " excludeSeen "
                                + excludeSeen));
        System.out.printf("  %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }
}
