package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PromotionGuardTest {
    private static ModelState model;

    @BeforeAll
    static void model() {
        try (OnlineLearner learner =
                new OnlineLearner(ModelConfig.builder().setWindow(3).optHiddenSize(4).build())) {
            model = learner.snapshot();
        }
    }

    @Test
    void theFirstVersionServes() {
        assertTrue(new PromotionGuard(5, 0.1).decide(model, false).promote());
    }

    @Test
    void aCandidateServesOnlyWithinTheMarginOfTheServingLoss() {
        PromotionGuard guard = new PromotionGuard(5, 0.1);
        guard.record(1.05, 1.0);
        guard.record(1.15, 1.0);
        PromotionGuard.Decision within = guard.decide(model, true);
        assertTrue(within.promote(), within.note());
        assertEquals(1.1, within.candidateLoss(), 1e-12);
        assertEquals(1.0, within.servingLoss(), 1e-12);

        guard.record(1.5, 1.0);
        PromotionGuard.Decision worse = guard.decide(model, true);
        assertFalse(worse.promote(), worse.note());
        assertTrue(worse.note().startsWith("rejected: loss"), worse.note());
    }

    @Test
    void onlyTheMostRecentBatchesCount() {
        PromotionGuard guard = new PromotionGuard(2, 0.0);
        guard.record(9.0, 1.0);
        guard.record(1.0, 1.0);
        guard.record(1.0, 1.0);
        assertTrue(guard.decide(model, true).promote(), "the bad batch left the window");
        assertArrayEquals(new double[] {1.0, 1.0, 1.0, 1.0}, guard.toArray());
        guard.reset();
        assertEquals(0, guard.toArray().length);
    }

    @Test
    void nanNeverServes() {
        PromotionGuard guard = new PromotionGuard(5, 0.1);
        guard.record(Double.NaN, 1.0);
        PromotionGuard.Decision nanLoss = guard.decide(model, true);
        assertFalse(nanLoss.promote(), nanLoss.note());

        assertFalse(new PromotionGuard(5, 0.1).decide(withNanWeight(), false).promote());
    }

    /**
     * The model with its first weight NaN. ModelState is built only inside models/, so this goes
     * through the codec: it finds the first weight's bits (followed by the second's) in the encoded
     * bytes, whatever the format's header, and puts the checksum right again.
     */
    private static ModelState withNanWeight() {
        float[][] weights = model.weights();
        ByteBuffer bytes = ByteBuffer.wrap(model.encode());
        int first = Float.floatToRawIntBits(weights[0][0]);
        int second = Float.floatToRawIntBits(weights[0][1]);
        int at = -1;
        for (int i = 0; i + 8 <= bytes.capacity() - 4 && at < 0; i++) {
            if (bytes.getInt(i) == first && bytes.getInt(i + 4) == second) {
                at = i;
            }
        }
        assertTrue(at > 0, "the first weight is in the encoded state");
        bytes.putInt(at, Float.floatToRawIntBits(Float.NaN));
        CRC32 crc = new CRC32();
        crc.update(bytes.array(), 0, bytes.capacity() - 4);
        bytes.putInt(bytes.capacity() - 4, (int) crc.getValue());
        ModelState nan = ModelState.decode(bytes.array());
        assertTrue(Float.isNaN(nan.weights()[0][0]));
        return nan;
    }
}
