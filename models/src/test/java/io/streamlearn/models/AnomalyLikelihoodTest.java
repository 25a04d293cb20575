package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AnomalyLikelihoodTest {
    @Test
    void erfcMatchesKnownValues() {
        assertEquals(1.0, AnomalyLikelihood.erfc(0), 1e-7);
        assertEquals(0.157299207, AnomalyLikelihood.erfc(1), 1e-7);
        assertEquals(1.842700793, AnomalyLikelihood.erfc(-1), 1e-7);
        assertEquals(0.004677735, AnomalyLikelihood.erfc(2), 1e-7);
    }

    @Test
    void ordinaryScoresStayNearOneHalfAndASpikeNearsOne() {
        AnomalyLikelihood likelihood = new AnomalyLikelihood(200, 1, 20);
        Random random = new Random(1);
        double sum = 0;
        int n = 0;
        for (int i = 0; i < 400; i++) {
            double l = likelihood.update(Math.abs(random.nextGaussian()));
            if (i >= 20) {
                sum += l;
                n++;
            }
            assertTrue(l >= 0 && l <= 1);
        }
        assertEquals(0.5, sum / n, 0.08, "ordinary scores average about one half");
        assertTrue(likelihood.update(8.0) > 0.9999, "a spike far outside the history");
        assertTrue(likelihood.update(0.0) < 0.5, "a quiet point right after");
    }

    @Test
    void answersOneHalfUntilItHasEnoughHistory() {
        AnomalyLikelihood likelihood = new AnomalyLikelihood(100, 1, 10);
        for (int i = 0; i < 10; i++) {
            assertEquals(0.5, likelihood.update(i == 5 ? 100 : 1));
        }
    }

    @Test
    void restoresExactlyAndContinuesTheSame() {
        AnomalyLikelihood a = new AnomalyLikelihood(50, 3, 10);
        Random random = new Random(2);
        for (int i = 0; i < 120; i++) {
            a.update(random.nextDouble());
        }
        AnomalyLikelihood b = AnomalyLikelihood.decode(a.encode());
        assertEquals(a, b);
        for (int i = 0; i < 30; i++) {
            double s = random.nextDouble() * 3;
            assertEquals(a.update(s), b.update(s));
        }
    }

    @Test
    void refusesBadSettingsAndUnknownFormats() {
        assertThrows(IllegalArgumentException.class, () -> new AnomalyLikelihood(1, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> new AnomalyLikelihood(10, 11, 2));
        byte[] bytes = new AnomalyLikelihood(10, 1, 2).encode();
        bytes[0] = 9;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AnomalyLikelihood.decode(bytes));
        assertTrue(e.getMessage().contains("format version 9"), e.getMessage());
    }
}
