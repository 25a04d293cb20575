package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SeriesNormalizerTest {

    @Test
    void warmUpIsTheCumulativeMeanAndPopulationVariance() {
        SeriesNormalizer n = new SeriesNormalizer(1);
        assertArrayEquals(new float[] {0f}, n.observe(new float[] {10f}, 100), "nothing seen");
        n.observe(new float[] {20f}, 100);
        n.observe(new float[] {30f}, 100);
        assertEquals(20.0, n.mean(0), 1e-12);
        assertEquals(Math.sqrt(200.0 / 3), n.scale(0), 1e-9);
        float[] z = n.normalize(new float[] {40f});
        assertEquals(20 / Math.sqrt(200.0 / 3), z[0], 1e-5);
    }

    @Test
    void laterObservationsForgetWithTheHorizon() {
        SeriesNormalizer n = new SeriesNormalizer(1);
        for (int i = 0; i < 50; i++) {
            n.observe(new float[] {0f}, 10);
        }
        for (int i = 0; i < 50; i++) {
            n.observe(new float[] {100f}, 10);
        }
        assertTrue(n.mean(0) > 99, "after 5 horizons the old level is forgotten: " + n.mean(0));
    }

    @Test
    void seriesOfAnyScaleLookAlike() {
        float[] small = zOf(new SeriesNormalizer(1), 1e-3, 5);
        float[] large = zOf(new SeriesNormalizer(1), 1e6, 5);
        for (int t = 0; t < small.length; t++) {
            assertEquals(small[t], large[t], 1e-3, "step " + t);
        }
    }

    private static float[] zOf(SeriesNormalizer n, double scale, long seed) {
        Random random = new Random(seed);
        float[] z = new float[200];
        for (int t = 0; t < z.length; t++) {
            double x = scale * (3 + Math.sin(t / 4.0) + 0.1 * random.nextGaussian());
            z[t] = n.observe(new float[] {(float) x}, 50)[0];
        }
        return z;
    }

    @Test
    void clipsAndFloorsSoFlatSeriesStayFinite() {
        SeriesNormalizer n = new SeriesNormalizer(2);
        for (int i = 0; i < 10; i++) {
            n.observe(new float[] {5f, 0f}, 100);
        }
        float[] z = n.normalize(new float[] {6f, 1f});
        assertEquals(SeriesNormalizer.Z_CLIP, z[0]);
        assertEquals(SeriesNormalizer.Z_CLIP, z[1]);
        assertEquals(5e-3, n.scale(0), 1e-9, "relative floor");
        assertEquals(1e-6, n.scale(1), 1e-12, "absolute floor");
        float[] back = n.denormalize(new float[] {1f, -1f});
        assertEquals(5.005f, back[0], 1e-5f);
    }

    @Test
    void codecRoundTripsExactly() {
        SeriesNormalizer n = new SeriesNormalizer(3);
        Random random = new Random(1);
        for (int i = 0; i < 30; i++) {
            n.observe(
                    new float[] {random.nextFloat(), 100 * random.nextFloat(), -random.nextFloat()},
                    7);
        }
        SeriesNormalizer copy = SeriesNormalizer.decode(n.encode());
        assertEquals(n.count(), copy.count());
        assertArrayEquals(n.encode(), copy.encode());
        float[] x = {0.5f, 50f, -0.5f};
        assertArrayEquals(n.observe(x, 7), copy.observe(x, 7));

        byte[] bad = n.encode();
        bad[0] = 9;
        assertTrue(
                assertThrows(IllegalArgumentException.class, () -> SeriesNormalizer.decode(bad))
                        .getMessage()
                        .contains("format version 9"));
        byte[] cut = java.util.Arrays.copyOf(n.encode(), 20);
        assertThrows(IllegalArgumentException.class, () -> SeriesNormalizer.decode(cut));
    }

    @Test
    void rejectsNonFiniteUpdatesAndWrongLengths() {
        SeriesNormalizer n = new SeriesNormalizer(1);
        assertThrows(IllegalArgumentException.class, () -> n.update(new float[] {Float.NaN}, 5));
        assertThrows(IllegalArgumentException.class, () -> n.observe(new float[2], 5));
        assertEquals(0, n.count());
    }
}
