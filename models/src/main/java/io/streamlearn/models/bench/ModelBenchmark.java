package io.streamlearn.models.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.Batch;
import io.streamlearn.models.Forecaster;
import io.streamlearn.models.Forecasts;
import io.streamlearn.models.ForwardPass;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.models.Recommender;
import io.streamlearn.models.Reconstructor;
import io.streamlearn.models.RecurrentState;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Measures the model families where they run: training examples/s and milliseconds per step at
 * batch 32, 64, 256 and 1024 (a step's cost is mostly fixed overhead, which is why the live trainer
 * grows its batch when it lags), inference events/s at batch 1, 32 and 256 with the latency of a
 * call (p50, p99), one-step incremental inference of the recurrent families, and the bare-loop
 * ratio: the time of a call through the streamlearn API over that of the same forward pass in a
 * bare DJL loop on arrays already on the device (batch 32), i.e. what the API adds. Optionally
 * ({@code --recurrent-state}) the study behind the predictor's recompute policy ({@link
 * RecurrentStateStudy}).
 *
 * <p>With {@code --catalogue 10000,100000} it measures, instead of the families, what the
 * recommendation job's model costs as the catalogue grows, for the job's default recommender (GRU,
 * window 16, hidden 32, tied output; {@code --hidden} and {@code --window} do not apply): its
 * training step at the training batch sizes, on histories and next items drawn from the known
 * items, and {@link Recommender#recommend} top-10 over every item of a full vocabulary, with the
 * user's 16 recent items excluded as exclude-seen does, at batch 1 (what the job's predictor calls
 * per event) and 32. The vocabulary is filled by training on every item once; the weights' values
 * do not change the cost of a ranking. The item table has one row per item and row 0, or {@code
 * --capacity} rows where that is more (a table sized above the catalogue).
 *
 * <pre>
 * streamlearn bench [--family all|rnn,gru,...] [--device cpu|gpu] [--hidden 64] [--window 20]
 *                   [--seconds 1] [--recurrent-state] [--catalogue 10000,100000]
 *                   [--capacity rows]
 * </pre>
 *
 * A benchmark, not a test: it prints figures and asserts nothing. Run it on an otherwise idle
 * machine; every figure is measured in this one process after a warm-up.
 */
public final class ModelBenchmark {

    static final String USAGE =
            "usage: streamlearn bench [--family all|rnn,gru,lstm,attention,mlp,lstm_autoencoder]"
                    + " [--device cpu|gpu] [--hidden 64] [--window 20] [--seconds 1]"
                    + " [--recurrent-state] [--catalogue 10000,100000 [--capacity rows]]";

    private static final int[] BATCHES = {1, 32, 256};
    private static final int[] TRAIN_BATCHES = {32, 64, 256, 1024};
    private static final int BARE_BATCH = 32;
    private static final int ROUNDS = 5;

    /** The recommendation job's default model, as {@code StreamlearnOptions}' defaults give it. */
    private static final int RECOMMEND_WINDOW = 16;

    private static final int RECOMMEND_HIDDEN = 32;
    private static final int RECOMMEND_K = 10;
    private static final int[] RECOMMEND_BATCHES = {1, 32};

    private final List<Family> families;
    private final Device device;
    private final int hidden;
    private final int window;
    private final double seconds;
    private final boolean recurrentState;
    private final int[] catalogues;
    private final int capacity;
    private final PrintStream out;

    private ModelBenchmark(Map<String, String> options, boolean recurrentState, PrintStream out) {
        String family = options.getOrDefault("family", "all");
        families = new ArrayList<>();
        if (family.equals("all")) {
            families.addAll(Arrays.asList(Family.values()));
        } else {
            for (String name : family.split(",")) {
                families.add(ModelConfig.parseFamily(name));
            }
        }
        String deviceName = options.getOrDefault("device", "cpu");
        switch (deviceName) {
            case "cpu" -> device = Device.cpu();
            case "gpu" -> device = Device.gpu();
            default ->
                    throw new IllegalArgumentException(
                            "--device must be cpu or gpu but was '" + deviceName + "'");
        }
        hidden = positive(options, "hidden", 64);
        window = positive(options, "window", 20);
        seconds = positiveNumber(options, "seconds", 1);
        this.recurrentState = recurrentState;
        catalogues = catalogues(options.get("catalogue"));
        capacity = positive(options, "capacity", 1);
        this.out = out;
    }

    private static int[] catalogues(String list) {
        if (list == null) {
            return new int[0];
        }
        String[] parts = list.split(",");
        int[] items = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                items[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                items[i] = 0;
            }
            if (items[i] < 1 || items[i] >= (1 << 24)) {
                throw new IllegalArgumentException(
                        "--catalogue must list item counts from 1 to 16777215, got '" + list + "'");
            }
        }
        return items;
    }

    /** Runs the benchmark; exits with 2 on a bad option or an unusable device. */
    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Runs the benchmark with the given options.
     *
     * @return 0, or 2 after printing the problem and the usage
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        ModelBenchmark bench;
        try {
            Map<String, String> options = options(args, "recurrent-state");
            boolean recurrentState = options.remove("recurrent-state") != null;
            bench = new ModelBenchmark(options, recurrentState, out);
            bench.header();
        } catch (IllegalArgumentException e) {
            err.println("streamlearn bench: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        if (bench.catalogues.length > 0) {
            for (int items : bench.catalogues) {
                bench.measureTopK(items);
            }
            return 0;
        }
        for (Family family : bench.families) {
            bench.measure(family);
        }
        if (bench.recurrentState) {
            new RecurrentStateStudy(bench.hidden, bench.window, bench.device, out).run();
        }
        return 0;
    }

    private void header() {
        // Loads the engine and checks the device before any figure is printed.
        try (OnlineLearner probe =
                new OnlineLearner(
                        ModelConfig.builder().setWindow(2).optHiddenSize(1).build(), device)) {
            out.printf(
                    Locale.ROOT,
                    "streamlearn bench: device %s, hidden %d, window %d, 1 feature; %d cores,"
                            + " intra-op threads %s, Java %s; %.1f s per figure%n",
                    probe.device(),
                    hidden,
                    window,
                    Runtime.getRuntime().availableProcessors(),
                    System.getProperty("ai.djl.pytorch.num_threads", "1"),
                    System.getProperty("java.version"),
                    seconds);
        }
    }

    private void measure(Family family) {
        Task task = family == Family.LSTM_AUTOENCODER ? Task.RECONSTRUCTION : Task.NEXT_VALUE;
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(task)
                        .setFamily(family)
                        .setWindow(window)
                        .optHiddenSize(hidden)
                        .optHeads(hidden % 4 == 0 ? 4 : 1)
                        .build();
        SeasonalSeries series = new SeasonalSeries(1L, 16, 2000, 0.002);
        Random random = new Random(2L);
        ModelState state = null;
        for (int size : TRAIN_BATCHES) {
            List<Batch> batches = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                float[][] w = new float[size][];
                float[][] t = new float[size][1];
                for (int r = 0; r < size; r++) {
                    int s = random.nextInt(series.series());
                    int at = window + random.nextInt(series.length() - window - 1);
                    w[r] = series.window(s, at, window);
                    t[r][0] = series.at(s, at + 1);
                }
                batches.add(task == Task.RECONSTRUCTION ? Batch.windows(w) : Batch.values(w, t));
            }
            Timing training;
            try (OnlineLearner learner = new OnlineLearner(config, device)) {
                int[] next = {0};
                training =
                        Timing.of(
                                () -> learner.train(batches.get(next[0]++ % batches.size())),
                                seconds);
                if (state == null) {
                    state = learner.snapshot();
                    out.printf(Locale.ROOT, "%n%s (%,d weights)%n", family, state.parameterCount());
                }
            }
            out.printf(
                    Locale.ROOT,
                    "  training   batch %4d  %,12.0f examples/s  %8.2f ms/step%n",
                    size,
                    training.rate(size),
                    training.meanMillis());
        }
        if (task == Task.RECONSTRUCTION) {
            try (Reconstructor model = Reconstructor.create(state, device)) {
                for (int b : BATCHES) {
                    float[][] windows = windows(series, b);
                    print("inference ", b, Timing.of(() -> model.errors(windows), seconds));
                }
                float[][] windows = windows(series, BARE_BATCH);
                bareRatio(state, windows, () -> model.errors(windows));
            }
            return;
        }
        try (Forecaster model = Forecaster.create(state, device)) {
            for (int b : BATCHES) {
                float[][] windows = windows(series, b);
                print("inference ", b, Timing.of(() -> model.forecast(windows), seconds));
            }
            if (model.isIncremental()) {
                for (int b : BATCHES) {
                    Forecasts start = model.forecast(windows(series, b));
                    RecurrentState[][] states = {new RecurrentState[b]};
                    for (int r = 0; r < b; r++) {
                        states[0][r] = start.state(r);
                    }
                    float[][] values = new float[b][1];
                    Timing step =
                            Timing.of(
                                    () -> {
                                        Forecasts f = model.step(states[0], values);
                                        for (int r = 0; r < values.length; r++) {
                                            states[0][r] = f.state(r);
                                            values[r][0] = f.mean(r)[0];
                                        }
                                    },
                                    seconds);
                    print("one step  ", b, step);
                }
            }
            float[][] windows = windows(series, BARE_BATCH);
            bareRatio(state, windows, () -> model.forecast(windows));
        }
    }

    /**
     * Top-10 over a catalogue of {@code items} items: a recommender whose vocabulary holds them
     * all, asked for each user's next items with their recent items excluded.
     */
    private void measureTopK(int items) {
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(Family.GRU)
                        .setWindow(RECOMMEND_WINDOW)
                        .optHiddenSize(RECOMMEND_HIDDEN)
                        .optItemCapacity(Math.max(items + 1, capacity))
                        .build();
        ModelState state;
        List<String> training;
        long fillNanos = System.nanoTime();
        try (OnlineLearner learner = new OnlineLearner(config, device)) {
            // Each example's history and next item are new ids: a batch admits 256 * 17 of them.
            int perRow = RECOMMEND_WINDOW + 1;
            int fillBatch = 256;
            for (int first = 0; first < items; first += fillBatch * perRow) {
                int rows = Math.min(fillBatch, (items - first + perRow - 1) / perRow);
                String[][] histories = new String[rows][];
                String[] next = new String[rows];
                for (int r = 0; r < rows; r++) {
                    int at = first + r * perRow;
                    int length = Math.max(0, Math.min(RECOMMEND_WINDOW, items - at - 1));
                    histories[r] = new String[length];
                    for (int t = 0; t < length; t++) {
                        histories[r][t] = "item-" + (at + t);
                    }
                    next[r] = "item-" + Math.min(items - 1, at + length);
                }
                learner.train(Batch.items(histories, next));
            }
            learner.nextVersion();
            state = learner.snapshot();
            fillNanos = System.nanoTime() - fillNanos;
            training = trainingSteps(learner, items);
        }
        try (Recommender recommender = Recommender.create(state, device)) {
            out.printf(
                    Locale.ROOT,
                    "%nrecommender GRU, window %d, hidden %d, %s softmax in training: %,d items"
                            + " known in a table of %,d rows (vocabulary filled in %.1f s)%n",
                    RECOMMEND_WINDOW,
                    RECOMMEND_HIDDEN,
                    config.sampledSoftmax() ? "sampled" : "full",
                    recommender.knownItems(),
                    config.itemCapacity(),
                    fillNanos / 1e9);
            training.forEach(out::println);
            Random random = new Random(3L);
            for (int b : RECOMMEND_BATCHES) {
                String[][] histories = new String[b][RECOMMEND_WINDOW];
                List<Collection<String>> seen = new ArrayList<>(b);
                for (int r = 0; r < b; r++) {
                    Set<String> user = new HashSet<>();
                    for (int t = 0; t < RECOMMEND_WINDOW; t++) {
                        histories[r][t] = "item-" + random.nextInt(items);
                        user.add(histories[r][t]);
                    }
                    seen.add(user);
                }
                Timing t =
                        Timing.of(
                                () -> recommender.recommend(histories, RECOMMEND_K, seen), seconds);
                out.printf(
                        Locale.ROOT,
                        "  top-%d of %,9d items  batch %3d  %,10.0f queries/s    p50 %8.1f us"
                                + "  p99 %8.1f us per call%n",
                        RECOMMEND_K,
                        items,
                        b,
                        t.rate(b),
                        t.percentileMicros(50),
                        t.percentileMicros(99));
            }
        }
    }

    /**
     * Training steps of the recommender at every training batch size, on histories and next items
     * drawn from the catalogue it already knows (so that no step admits an item), as the lines to
     * print.
     */
    private List<String> trainingSteps(OnlineLearner learner, int items) {
        Random random = new Random(4L);
        List<String> lines = new ArrayList<>();
        for (int size : TRAIN_BATCHES) {
            List<Batch> batches = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String[][] histories = new String[size][RECOMMEND_WINDOW];
                String[] next = new String[size];
                for (int r = 0; r < size; r++) {
                    for (int t = 0; t < RECOMMEND_WINDOW; t++) {
                        histories[r][t] = "item-" + random.nextInt(items);
                    }
                    next[r] = "item-" + random.nextInt(items);
                }
                batches.add(Batch.items(histories, next));
            }
            int[] next = {0};
            Timing t =
                    Timing.of(
                            () -> learner.train(batches.get(next[0]++ % batches.size())), seconds);
            lines.add(
                    String.format(
                            Locale.ROOT,
                            "  training   batch %4d  %,12.0f examples/s  %8.2f ms/step",
                            size,
                            t.rate(size),
                            t.meanMillis()));
        }
        return lines;
    }

    /**
     * The same forward pass in a bare DJL loop on an input already in native memory: no Java
     * arrays, checks or result objects. The two loops take turns for {@value #ROUNDS} rounds and
     * the median of the rounds' ratios is reported, so that a change in the machine's load during
     * the measurement hits both sides alike.
     */
    private void bareRatio(ModelState state, float[][] windows, Runnable api) {
        float[] flat = new float[windows.length * window];
        for (int r = 0; r < windows.length; r++) {
            System.arraycopy(windows[r], 0, flat, r * window, window);
        }
        double[] ratios = new double[ROUNDS];
        double apiMicros = 0;
        double bareMicros = 0;
        // The input waits in native memory; each call wraps it in its own scope, so that the call's
        // results are freed with the scope, as in the API.
        ByteBuffer input =
                ByteBuffer.allocateDirect(4 * flat.length).order(ByteOrder.nativeOrder());
        input.asFloatBuffer().put(flat);
        Shape shape = new Shape(windows.length, window, 1);
        try (ForwardPass pass = ForwardPass.create(state, device)) {
            Runnable bare =
                    () -> {
                        ForwardPass.configureCurrentThread();
                        try (ForwardPass.GradMode mode = pass.inferenceMode();
                                NDManager scope = pass.newScope()) {
                            NDArray x = scope.create(input.rewind(), shape, DataType.FLOAT32);
                            pass.forward(x).get(0).toFloatArray();
                        }
                    };
            for (int round = 0; round < ROUNDS; round++) {
                double a = Timing.of(api, seconds / ROUNDS).meanMicros();
                double b = Timing.of(bare, seconds / ROUNDS).meanMicros();
                ratios[round] = a / b;
                apiMicros += a / ROUNDS;
                bareMicros += b / ROUNDS;
            }
        }
        Arrays.sort(ratios);
        out.printf(
                Locale.ROOT,
                "  API / bare DJL loop, batch %d: %.2f  (%.1f us vs %.1f us per call)%n",
                windows.length,
                ratios[ROUNDS / 2],
                apiMicros,
                bareMicros);
    }

    private void print(String what, int batch, Timing t) {
        out.printf(
                Locale.ROOT,
                "  %s batch %3d  %,12.0f events/s    p50 %8.1f us  p99 %8.1f us per call%n",
                what,
                batch,
                t.rate(batch),
                t.percentileMicros(50),
                t.percentileMicros(99));
    }

    private float[][] windows(SeasonalSeries series, int count) {
        float[][] w = new float[count][];
        for (int r = 0; r < count; r++) {
            w[r] = series.window(r % series.series(), 100 + 7 * r, window);
        }
        return w;
    }

    /**
     * The options of a bench command: {@code --name value} pairs, and the given flags (which take
     * no value) as {@code name -> "true"}.
     *
     * @throws IllegalArgumentException naming an argument that is neither
     */
    public static Map<String, String> options(String[] args, String... flags) {
        List<String> flagNames = Arrays.asList(flags);
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--") && flagNames.contains(args[i].substring(2))) {
                options.put(args[i].substring(2), "true");
            } else if (args[i].startsWith("--") && i + 1 < args.length) {
                options.put(args[i].substring(2), args[++i]);
            } else {
                throw new IllegalArgumentException("expected --name value, got '" + args[i] + "'");
            }
        }
        return options;
    }

    /**
     * A number above 0, e.g. seconds.
     *
     * @throws IllegalArgumentException naming the option and the bad value
     */
    public static double positiveNumber(Map<String, String> options, String name, double fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        double n;
        try {
            n = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--" + name + " must be a number but was '" + value + "'");
        }
        if (!(n > 0) || Double.isInfinite(n)) {
            throw new IllegalArgumentException("--" + name + " must be above 0 but was " + value);
        }
        return n;
    }

    /**
     * A whole number above 0.
     *
     * @throws IllegalArgumentException naming the option and the bad value
     */
    public static int positive(Map<String, String> options, String name, int fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                "--" + name + " must be a positive whole number but was '" + value + "'");
    }

    /** Per-call latencies of a call repeated for a time budget after a warm-up. */
    static final class Timing {
        private final long[] nanos;

        private Timing(long[] nanos) {
            this.nanos = nanos;
            Arrays.sort(this.nanos);
        }

        static Timing of(Runnable call, double seconds) {
            long warmUpEnd = System.nanoTime() + (long) (seconds * 0.25e9);
            int warm = 0;
            while (warm < 3 || System.nanoTime() < warmUpEnd) {
                call.run();
                warm++;
            }
            long[] nanos = new long[1024];
            int calls = 0;
            long budget = (long) (seconds * 1e9);
            long spent = 0;
            while (calls < 5 || spent < budget) {
                long t0 = System.nanoTime();
                call.run();
                long dt = System.nanoTime() - t0;
                if (calls == nanos.length) {
                    nanos = Arrays.copyOf(nanos, calls * 2);
                }
                nanos[calls++] = dt;
                spent += dt;
            }
            return new Timing(Arrays.copyOf(nanos, calls));
        }

        double rate(int perCall) {
            double total = 0;
            for (long n : nanos) {
                total += n;
            }
            return perCall * nanos.length / (total / 1e9);
        }

        double meanMicros() {
            double total = 0;
            for (long n : nanos) {
                total += n;
            }
            return total / nanos.length / 1e3;
        }

        double meanMillis() {
            return meanMicros() / 1e3;
        }

        double percentileMicros(int p) {
            int i = Math.min(nanos.length - 1, (int) Math.ceil(p / 100.0 * nanos.length) - 1);
            return nanos[Math.max(0, i)] / 1e3;
        }
    }
}
