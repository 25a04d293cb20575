package io.streamlearn.jobs.runtime;

import io.streamlearn.schemas.MetricEvent;
import java.time.Instant;
import java.util.List;
import java.util.Random;

/**
 * Metric events with a learnable pattern: several seasonal series (a daily-like sine with a
 * harmonic, each with its own level, scale and phase) plus Gaussian noise and a few injected
 * spikes. Deterministic for a seed. Series take turns; each event advances its series by one minute
 * of event time.
 */
public final class MetricGenerator {
    /** Steps per season: one "day" of one-minute observations, shortened so a demo sees many. */
    public static final int PERIOD = 48;

    private final int series;
    private final Random random;
    private final double[] level;
    private final double[] scale;
    private final double[] phase;
    private final double noise;
    private final double spikeProbability;
    private final Instant start;
    private long count;

    public MetricGenerator(int series, long seed) {
        this(series, seed, 0.05, 0.002, Instant.parse("2026-01-01T00:00:00Z"));
    }

    public MetricGenerator(
            int series, long seed, double noise, double spikeProbability, Instant start) {
        if (series < 1) {
            throw new IllegalArgumentException("series must be at least 1, got " + series);
        }
        this.series = series;
        this.random = new Random(seed);
        this.noise = noise;
        this.spikeProbability = spikeProbability;
        this.start = start;
        level = new double[series];
        scale = new double[series];
        phase = new double[series];
        for (int i = 0; i < series; i++) {
            level[i] = 10 + 90 * random.nextDouble();
            scale[i] = 1 + 9 * random.nextDouble();
            phase[i] = 2 * Math.PI * random.nextDouble();
        }
    }

    public MetricEvent next() {
        int s = (int) (count % series);
        long step = count / series;
        count++;
        double angle = 2 * Math.PI * step / PERIOD + phase[s];
        double value = level[s] + scale[s] * (Math.sin(angle) + 0.3 * Math.sin(3 * angle));
        value += scale[s] * noise * random.nextGaussian();
        if (random.nextDouble() < spikeProbability) {
            value += scale[s] * (3 + 2 * random.nextDouble()) * (random.nextBoolean() ? 1 : -1);
        }
        return MetricEvent.newBuilder()
                .setSeriesId(seriesId(s))
                .setEventTime(start.plusSeconds(60 * step))
                .setValues(List.of(value))
                .build();
    }

    public static String seriesId(int index) {
        return String.format("series-%02d", index);
    }
}
