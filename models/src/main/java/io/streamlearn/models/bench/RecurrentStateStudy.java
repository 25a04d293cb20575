package io.streamlearn.models.bench;

import ai.djl.Device;
import io.streamlearn.models.Batch;
import io.streamlearn.models.Forecaster;
import io.streamlearn.models.Forecasts;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.models.RecurrentState;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What carrying a series' hidden state from event to event costs in accuracy and gains in speed,
 * for the predictor's recompute policy (docs/recurrent-state.md).
 *
 * <p>A recurrent model is trained on windows that start from a zero state, while a carried state
 * has seen every event since its last recomputation, with weights that have moved since. The study
 * replays the demo's kind of stream as the job does: 32 series take turns, the trainer learns from
 * every event (batch 32) and publishes a version every 5 steps, and each event is forecast with the
 * version published before it. Every policy sees the same versions at the same events: recompute
 * the state from the window at every event (the reference), after K one-step updates, and
 * optionally whenever the version changes. It prints the online MAE (normalised units, after a
 * warm-up) and the share of events that ran a whole window, and turns that share into events/s at
 * batch 1 from the two call costs measured here.
 */
final class RecurrentStateStudy {

    private static final int SERIES = 32;
    private static final int LENGTH = 1200;
    private static final int SCORED_FROM = 300;
    private static final int WARM_UP = 20;
    private static final int BATCH = 32;
    private static final int PUBLISH_EVERY = 5;
    private static final int NEVER = Integer.MAX_VALUE;

    private final int hidden;
    private final int window;
    private final Device device;
    private final PrintStream out;

    RecurrentStateStudy(int hidden, int window, Device device, PrintStream out) {
        this.hidden = hidden;
        this.window = window;
        this.device = device;
        this.out = out;
    }

    private record Policy(int recomputeEvery, boolean onNewModel) {
        @Override
        public String toString() {
            if (recomputeEvery == 0) {
                return "every event (reference)";
            }
            return (recomputeEvery == NEVER ? "never" : "every " + recomputeEvery + " steps")
                    + (onNewModel ? " + new model" : "");
        }
    }

    void run() {
        out.printf(
                Locale.ROOT,
                "%nRecurrent state: %d series x %d events, trainer batch %d publishing every %d"
                        + " steps; MAE scored from event %d%n",
                SERIES,
                LENGTH,
                BATCH,
                PUBLISH_EVERY,
                SCORED_FROM);
        for (Family family : new Family[] {Family.LSTM, Family.GRU}) {
            study(family);
        }
    }

    private void study(Family family) {
        SeasonalSeries series = new SeasonalSeries(3L, SERIES, LENGTH, 0.002);
        ModelConfig config =
                ModelConfig.builder()
                        .setFamily(family)
                        .setWindow(window)
                        .optHiddenSize(hidden)
                        .build();
        ModelState[] serving = train(config, series);
        double[] cost = callCosts(serving[LENGTH - 1], series);
        out.printf(
                Locale.ROOT,
                "%s: versions %d..%d; a window pass %.0f us, a step %.0f us at batch 1%n",
                family,
                firstVersion(serving),
                serving[LENGTH - 1].version(),
                cost[0],
                cost[1]);
        out.println(
                "  recompute the state          windows run   MAE (z)   vs reference   events/s");
        List<Policy> policies = new ArrayList<>();
        policies.add(new Policy(0, false));
        for (int k : new int[] {1, 4, 16, 64, NEVER}) {
            policies.add(new Policy(k, false));
        }
        for (int k : new int[] {16, NEVER}) {
            policies.add(new Policy(k, true));
        }
        double reference = Double.NaN;
        for (Policy policy : policies) {
            double[] r = replay(series, serving, policy);
            if (policy.recomputeEvery() == 0) {
                reference = r[0];
            }
            double share = r[1];
            double perEvent = share * cost[0] + (1 - share) * cost[1];
            out.printf(
                    Locale.ROOT,
                    "  %-28s %9.1f %%   %7.4f   %+11.1f %%   %8.0f%n",
                    policy,
                    100 * share,
                    r[0],
                    100 * (r[0] / reference - 1),
                    1e6 / perEvent);
        }
    }

    /** Learns from the stream as the job does; returns the model serving at each round. */
    private ModelState[] train(ModelConfig config, SeasonalSeries series) {
        ModelState[] serving = new ModelState[LENGTH];
        List<float[]> windows = new ArrayList<>();
        List<float[]> targets = new ArrayList<>();
        try (OnlineLearner learner = new OnlineLearner(config, device)) {
            ModelState current = learner.snapshot();
            for (int t = 0; t < LENGTH; t++) {
                serving[t] = current;
                if (t - window >= WARM_UP) {
                    for (int s = 0; s < SERIES; s++) {
                        windows.add(series.window(s, t - 1, window));
                        targets.add(new float[] {series.at(s, t)});
                        if (windows.size() == BATCH) {
                            learner.train(
                                    Batch.values(
                                            windows.toArray(new float[0][]),
                                            targets.toArray(new float[0][])));
                            windows.clear();
                            targets.clear();
                            if (learner.step() % PUBLISH_EVERY == 0) {
                                learner.nextVersion();
                                current = learner.snapshot();
                            }
                        }
                    }
                }
            }
        }
        return serving;
    }

    private static long firstVersion(ModelState[] serving) {
        return serving[SCORED_FROM].version();
    }

    /** Replays the forecasts of one policy: {MAE, share of events that ran a window}. */
    private double[] replay(SeasonalSeries series, ModelState[] serving, Policy policy) {
        RecurrentState[] states = new RecurrentState[SERIES];
        double error = 0;
        long scored = 0;
        long windowsRun = 0;
        long events = 0;
        Forecaster forecaster = null;
        try {
            for (int t = 0; t < LENGTH - 1; t++) {
                if (forecaster == null || forecaster.version() != serving[t].version()) {
                    if (forecaster != null) {
                        forecaster.close();
                    }
                    forecaster = Forecaster.create(serving[t], device);
                }
                List<Integer> recompute = new ArrayList<>();
                List<Integer> step = new ArrayList<>();
                for (int s = 0; s < SERIES; s++) {
                    RecurrentState st = states[s];
                    boolean again =
                            st == null
                                    || st.stepsSinceRecompute() >= policy.recomputeEvery()
                                    || (policy.onNewModel()
                                            && st.modelVersion() != forecaster.version());
                    (again ? recompute : step).add(s);
                }
                float[] mean = new float[SERIES];
                if (!recompute.isEmpty()) {
                    float[][] w = new float[recompute.size()][];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = series.window(recompute.get(i), t, window);
                    }
                    Forecasts f = forecaster.forecast(w);
                    for (int i = 0; i < w.length; i++) {
                        states[recompute.get(i)] = f.state(i);
                        mean[recompute.get(i)] = f.mean(i)[0];
                    }
                }
                if (!step.isEmpty()) {
                    RecurrentState[] in = new RecurrentState[step.size()];
                    float[][] values = new float[step.size()][];
                    for (int i = 0; i < in.length; i++) {
                        in[i] = states[step.get(i)];
                        values[i] = new float[] {series.at(step.get(i), t)};
                    }
                    Forecasts f = forecaster.step(in, values);
                    for (int i = 0; i < in.length; i++) {
                        states[step.get(i)] = f.state(i);
                        mean[step.get(i)] = f.mean(i)[0];
                    }
                }
                if (t >= SCORED_FROM) {
                    for (int s = 0; s < SERIES; s++) {
                        error += Math.abs(mean[s] - series.at(s, t + 1));
                        scored++;
                    }
                    windowsRun += recompute.size();
                    events += SERIES;
                }
            }
        } finally {
            if (forecaster != null) {
                forecaster.close();
            }
        }
        return new double[] {error / scored, (double) windowsRun / events};
    }

    /** Microseconds of a whole-window forecast and of a one-step update, at batch 1. */
    private double[] callCosts(ModelState state, SeasonalSeries series) {
        try (Forecaster forecaster = Forecaster.create(state, device)) {
            float[][] w = {series.window(0, 500, window)};
            ModelBenchmark.Timing full =
                    ModelBenchmark.Timing.of(() -> forecaster.forecast(w), 0.5);
            RecurrentState[] s = {forecaster.forecast(w).state(0)};
            float[][] v = {{series.at(0, 501)}};
            ModelBenchmark.Timing step = ModelBenchmark.Timing.of(() -> forecaster.step(s, v), 0.5);
            return new double[] {full.meanMicros(), step.meanMicros()};
        }
    }
}
