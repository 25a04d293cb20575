package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AnomalyDetectorTest {
    /** The job's defaults (StreamlearnOptions): recent 3, horizon 8640, from 100, ... */
    static final AnomalyDetector.Settings DEFAULTS =
            new AnomalyDetector.Settings(3, 8640, 100, 300, 300, 0.01, 0.65);

    private static final long FIVE_MINUTES = 300_000L;
    private static final String V1 = "/fixtures/anomaly-likelihood-v1.bin";

    /** Feeds ordinary events: raw scores |N(0,1)|, values in [0, 1), five minutes apart. */
    private static double[] ordinary(AnomalyDetector d, Random random, long from, int n) {
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) {
            scores[i] =
                    d.update(
                            Math.abs(random.nextGaussian()),
                            (from + i) * FIVE_MINUTES,
                            new float[] {random.nextFloat()});
        }
        return scores;
    }

    @Test
    void theFirstEventsOfASeriesNeverAlert() {
        AnomalyDetector d = new AnomalyDetector(DEFAULTS);
        for (int i = 0; i < 300; i++) {
            assertEquals(0.0, d.update(50.0, i * FIVE_MINUTES, new float[] {i}), "event " + i);
        }
    }

    @Test
    void aSurpriseAlertsOnceThenRepeatsAreSuppressed() {
        for (long seed : new long[] {1, 2, 3}) {
            AnomalyDetector d = new AnomalyDetector(DEFAULTS);
            Random random = new Random(seed);
            double[] before = ordinary(d, random, 0, 1000);
            for (int i = 300; i < before.length; i++) {
                assertTrue(before[i] < 0.65, "seed " + seed + " event " + i + ": " + before[i]);
            }
            double first = d.update(40.0, 1000 * FIVE_MINUTES, new float[] {0.5f});
            assertTrue(first >= 0.65, "the surprise alerts: " + first);
            double[] between = ordinary(d, random, 1001, 100);
            double repeat = d.update(40.0, 1101 * FIVE_MINUTES, new float[] {0.5f});
            assertTrue(repeat < 0.65, "suppressed within 300 events: " + repeat);
            assertTrue(repeat <= 0.65 / 2, "capped at half the level: " + repeat);
            for (double b : between) {
                assertTrue(b < 0.65, "ordinary after the alert: " + b);
            }
            ordinary(d, random, 1102, 300);
            double again = d.update(40.0, 1402 * FIVE_MINUTES, new float[] {0.5f});
            assertTrue(again >= 0.65, "alerts again after the suppression: " + again);
        }
    }

    @Test
    void aValueBeyondTheRangeSeenSoFarScoresOne() {
        AnomalyDetector d = new AnomalyDetector(DEFAULTS);
        Random random = new Random(4);
        ordinary(d, random, 0, 400);
        assertEquals(1.0, d.update(0.1, 400 * FIVE_MINUTES, new float[] {1.5f}));
        // Within the tolerance (1 % of the range) of the range: ordinary.
        AnomalyDetector e = new AnomalyDetector(DEFAULTS);
        ordinary(e, new Random(4), 0, 400);
        assertTrue(e.update(0.1, 400 * FIVE_MINUTES, new float[] {1.005f}) < 0.65);
    }

    @Test
    void aSurpriseUsualAtThatHourOfTheDayDoesNotAlertButTheSameOneAtAnotherHourDoes() {
        AnomalyDetector d = new AnomalyDetector(DEFAULTS);
        Random random = new Random(5);
        int day = 288;
        double lastAtThree = 0;
        for (int i = 0; i < 10 * day; i++) {
            long time = i * FIVE_MINUTES;
            boolean three = i % day == 36; // 03:00 every day
            double raw = three ? 20.0 : Math.abs(random.nextGaussian());
            double score = d.update(raw, time, new float[] {random.nextFloat()});
            if (three) {
                lastAtThree = score;
            }
        }
        assertTrue(lastAtThree < 0.65, "a nightly surprise is usual by the tenth night");
        double atTen = d.update(20.0, (10L * day + 120) * FIVE_MINUTES, new float[] {0.5f});
        assertTrue(atTen >= 0.65, "the same surprise at 10:00 alerts: " + atTen);
    }

    @Test
    void aValueUnusualForItsHourAlertsThoughItIsWithinTheRangeAndEasyToForecast() {
        for (long seed : new long[] {1, 2, 3}) {
            AnomalyDetector d = new AnomalyDetector(DEFAULTS);
            Random random = new Random(seed);
            int day = 288;
            for (int i = 0; i < 10 * day; i++) {
                double hour = (i % day) / 12.0;
                float value =
                        (float)
                                (Math.sin(2 * Math.PI * hour / 24)
                                        + 0.01 * (random.nextDouble() - 0.5));
                double s =
                        d.update(
                                0.1 * Math.abs(random.nextGaussian()),
                                i * FIVE_MINUTES,
                                new float[] {value});
                assertTrue(i < 300 || s < 0.65, "seed " + seed + " event " + i + ": " + s);
            }
            // 10:00 on day 11 with the value of 22:00: inside the range, far from the hour's own.
            float night = (float) Math.sin(2 * Math.PI * 22 / 24);
            double score = d.update(0.1, (10L * day + 120) * FIVE_MINUTES, new float[] {night});
            assertTrue(score >= 0.65, "seed " + seed + ": " + score);
        }
    }

    @Test
    void theStateHasAFixedSizeAndARestoredDetectorContinuesExactly() {
        AnomalyDetector d = new AnomalyDetector(DEFAULTS);
        Random random = new Random(6);
        ordinary(d, random, 0, 1000);
        int size = d.encode().length;
        AnomalyDetector restored = AnomalyDetector.decode(d.encode());
        assertEquals(d, restored);
        double[] original = ordinary(d, new Random(9), 1000, 5000);
        double[] continued = ordinary(restored, new Random(9), 1000, 5000);
        assertArrayEquals(original, continued, "bit for bit");
        assertEquals(size, d.encode().length, "6000 events take no more state than 1000");
    }

    @Test
    void migratesTheLikelihoodsVersionOneState() throws Exception {
        byte[] v1;
        try (InputStream in = getClass().getResourceAsStream(V1)) {
            v1 = in.readAllBytes();
        }
        assertEquals(1, v1[0], "the fixture is the likelihood's format");
        AnomalyDetector d = AnomalyDetector.migrate(v1, DEFAULTS);
        assertEquals(500, d.events(), "the 500 raw scores of history count toward the warm-up");
        assertEquals(AnomalyDetector.FORMAT_VERSION, d.encode()[0]);
        Random random = new Random(8);
        // The range starts again with the first value; then ordinary events stay quiet and a
        // surprise alerts at once, the likelihood's statistics carried over.
        for (int i = 0; i < 30; i++) {
            double s =
                    d.update(
                            Math.abs(random.nextGaussian()),
                            i * FIVE_MINUTES,
                            new float[] {random.nextFloat()});
            assertTrue(s < 0.65, "event " + i + ": " + s);
        }
        assertTrue(d.update(40.0, 30 * FIVE_MINUTES, new float[] {0.5f}) >= 0.65);
    }

    @Test
    void decodeNamesAWrongVersionAndATruncatedState() {
        byte[] bytes = new AnomalyDetector(DEFAULTS).encode();
        bytes[0] = 9;
        IllegalArgumentException version =
                assertThrows(IllegalArgumentException.class, () -> AnomalyDetector.decode(bytes));
        assertTrue(version.getMessage().contains("format version 9"), version.getMessage());
        IllegalArgumentException truncated =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> AnomalyDetector.decode(new byte[] {AnomalyDetector.FORMAT_VERSION}));
        assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
    }

    @Test
    void theScoreIsTheTailProbabilityOnALogScale() {
        assertEquals(0.0, AnomalyDetector.tailScore(-1), 0);
        assertEquals(0.0, AnomalyDetector.tailScore(0), 0);
        // Q(4.7534) = 1e-6
        assertEquals(0.6, AnomalyDetector.tailScore(4.7534), 1e-3);
        assertEquals(1.0, AnomalyDetector.tailScore(50), 0);
    }

    @Test
    void settingsNameTheBadValue() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new AnomalyDetector.Settings(3, 8640, 100, 300, 300, 0.01, 1.5));
        assertTrue(e.getMessage().contains("level"), e.getMessage());
    }
}
