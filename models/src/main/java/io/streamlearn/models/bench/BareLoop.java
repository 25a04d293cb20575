package io.streamlearn.models.bench;

import ai.djl.Device;
import io.streamlearn.models.Batch;
import io.streamlearn.models.Forecaster;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.models.Recommender;
import io.streamlearn.models.Reconstructor;
import io.streamlearn.models.TrainingPace;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The model work of the streaming job without the job, at the job's batch sizes. On one thread (the
 * predictor's) events are answered in batches of the predictor's batch size (a forecast, a
 * reconstruction error or a top-K list per row, one pass per batch); each answered event then goes
 * to the trainer as the live job's trainer takes its examples, by the same rules ({@link
 * TrainingPace}): a step runs on a thread of its own, starts as soon as the trainer's batch size of
 * examples wait and no step runs, and takes those that wait up to the batch the pace allows (which
 * grows while the newest example of a batch waited longer than the maximum lag, and then the
 * sampling stride, whose left-out examples are skipped). When as many wait as the largest batch
 * during a step, the serving thread waits for the step, but only until the oldest has waited the
 * maximum lag; then every second one is kept and the others skipped. Each batch is scored by the
 * serving version before the step, and every {@code publishEverySteps} steps (and, where set, no
 * sooner than {@code minPublishInterval} after the last) a new version goes to both the scorer and
 * the serving thread. What the job could sustain if Flink, Kafka, state and encoding cost nothing;
 * {@code streamlearn bench --job} divides the job's rate by it.
 */
public final class BareLoop {
    /** Distinct item ids of the next-item inputs (the demo's clickstream has 200). */
    private static final int ITEMS = 200;

    /** Pre-built query batches the serving loop cycles through. */
    private static final int POOL = 8;

    private BareLoop() {}

    /**
     * The job's batch sizes and keep-up policy.
     *
     * @param servingBatch queries a predictor answers with one pass ({@code
     *     streamlearn.predictor.batch-size})
     * @param trainBatch examples that start a step ({@code streamlearn.trainer.batch-size})
     * @param maxTrainBatch the largest batch the trainer grows to, and the most examples that wait
     *     during a step ({@code streamlearn.trainer.max-batch-size})
     * @param maxLag how long examples may wait before the batch grows, and before a full backlog is
     *     sampled ({@code streamlearn.trainer.max-lag})
     * @param publishEverySteps steps per new model version ({@code
     *     streamlearn.trainer.publish-every-steps})
     * @param minPublishInterval the least time between two versions ({@code
     *     streamlearn.trainer.min-publish-interval}); zero publishes on steps only
     */
    public record Work(
            int servingBatch,
            int trainBatch,
            int maxTrainBatch,
            Duration maxLag,
            int publishEverySteps,
            Duration minPublishInterval) {
        public Work {
            if (minPublishInterval.isNegative()) {
                throw new IllegalArgumentException(
                        "minPublishInterval must not be negative: " + this);
            }
            if (servingBatch < 1 || trainBatch < 1 || publishEverySteps < 1) {
                throw new IllegalArgumentException(
                        "batch sizes and publishEverySteps must be at least 1: " + this);
            }
            if (maxTrainBatch < trainBatch) {
                throw new IllegalArgumentException(
                        "maxTrainBatch must be at least trainBatch: " + this);
            }
            if (maxLag.isNegative() || maxLag.isZero()) {
                throw new IllegalArgumentException("maxLag must be positive: " + this);
            }
        }
    }

    /**
     * What one measurement did, counted as the job's trainer counts.
     *
     * @param answered events answered
     * @param learned of them, examples handed to a step (the job's {@code examplesLearned})
     * @param skipped of them, examples left out by the sampling stride or the thinning of a full
     *     backlog ({@code examplesSkipped}); the rest, fewer than a trainer batch, still waited
     * @param seconds from the start until the trainer had learned the last batch it could take
     * @param largestTrainBatch the largest batch a step took
     * @param largestStride the largest sampling stride (1: no example was left out by it)
     */
    public record Rates(
            long answered,
            long learned,
            long skipped,
            double seconds,
            int largestTrainBatch,
            int largestStride) {
        public double servedPerSecond() {
            return answered / seconds;
        }

        public double learnedPerSecond() {
            return learned / seconds;
        }

        /** Events per second answered, the job's rate's counterpart. */
        public double eventsPerSecond() {
            return servedPerSecond();
        }

        /** The share of the answered events handed to a step. */
        public double learnedFraction() {
            return answered == 0 ? 0 : (double) learned / answered;
        }
    }

    /**
     * Runs the serving and the training loop side by side for {@code seconds} after a warm-up of a
     * quarter of that, each on its own thread; the time counts until the trainer has learned the
     * last batch of what was answered.
     *
     * @param k items per answer, for a next-item model
     */
    public static Rates measure(ModelConfig config, Work work, int k, double seconds, Device device)
            throws InterruptedException {
        Random random = new Random(3L);
        Examples examples = examples(config, 2 * work.maxTrainBatch(), random);
        try (OnlineLearner learner = new OnlineLearner(config, device)) {
            // A few steps first, so that a next-item model knows the items it is asked about.
            for (int i = 0; i < POOL; i++) {
                learner.train(examples.batch(0, work.trainBatch()));
            }
            Inputs inputs = inputs(config, work.servingBatch(), random);
            AtomicReference<ModelState> published = new AtomicReference<>(learner.snapshot());
            // A warm-up of a quarter of the time, which also sets the pace the measured run
            // starts with; then the measured run.
            TrainingPace pace =
                    new TrainingPace(
                            work.trainBatch(), work.maxTrainBatch(), work.maxLag().toNanos());
            Rates rates = null;
            for (double phase : new double[] {seconds * 0.25, seconds}) {
                rates =
                        run(
                                config, work, inputs, k, learner, examples, published, pace, phase,
                                device);
            }
            return rates;
        }
    }

    private static Rates run(
            ModelConfig config,
            Work work,
            Inputs inputs,
            int k,
            OnlineLearner learner,
            Examples examples,
            AtomicReference<ModelState> published,
            TrainingPace pace,
            double seconds,
            Device device)
            throws InterruptedException {
        Backlog backlog =
                new Backlog(pace, work.trainBatch(), work.maxTrainBatch(), work.maxLag().toNanos());
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<Long> served =
                    threads.submit(
                            () -> {
                                try {
                                    return serve(
                                            config,
                                            inputs,
                                            work.servingBatch(),
                                            k,
                                            published,
                                            backlog,
                                            end,
                                            device);
                                } finally {
                                    backlog.close();
                                }
                            });
            Future<long[]> learned =
                    threads.submit(
                            () ->
                                    learn(
                                            work.maxTrainBatch(),
                                            work.publishEverySteps(),
                                            work.minPublishInterval().toNanos(),
                                            learner,
                                            examples,
                                            published,
                                            backlog,
                                            device));
            long answers = served.get();
            long[] result = learned.get();
            double elapsed = (System.nanoTime() - start) / 1e9;
            return new Rates(
                    answers,
                    result[0],
                    backlog.skipped(),
                    elapsed,
                    (int) result[1],
                    backlog.largestStride());
        } catch (ExecutionException e) {
            throw new IllegalStateException("the bare loop failed: " + e.getCause(), e.getCause());
        } finally {
            threads.shutdownNow();
        }
    }

    /** The predictor's loop: a batch at a time, with the newest published version. */
    private static long serve(
            ModelConfig config,
            Inputs inputs,
            int rows,
            int k,
            AtomicReference<ModelState> published,
            Backlog backlog,
            long end,
            Device device)
            throws Exception {
        ModelState state = published.get();
        AutoCloseable serving = serving(config, state, device);
        try {
            long n = 0;
            int next = 0;
            while (System.nanoTime() < end) {
                if (published.get() != state) {
                    state = published.get();
                    serving.close();
                    serving = serving(config, state, device);
                }
                inputs.answer(serving, next++ % POOL, k);
                n += rows;
                backlog.add(System.nanoTime(), rows);
            }
            return n;
        } finally {
            serving.close();
        }
    }

    /**
     * The live trainer's step thread: one step per batch the backlog hands it, until it is closed
     * with fewer than a batch left. Returns the examples learned and the largest batch taken.
     */
    private static long[] learn(
            int maxTrainBatch,
            int publishEverySteps,
            long minPublishNanos,
            OnlineLearner learner,
            Examples examples,
            AtomicReference<ModelState> published,
            Backlog backlog,
            Device device)
            throws InterruptedException {
        int largest = 0;
        long learned = 0;
        OnlineLearner scorer = OnlineLearner.evaluator(published.get(), device);
        long publishedStep = learner.step();
        long publishedAt = System.nanoTime();
        try {
            for (int n = backlog.take(); n > 0; n = backlog.take()) {
                Batch batch = examples.batch((int) (learner.step() % (maxTrainBatch + 1)), n);
                long startedAt = System.nanoTime();
                scorer.evaluate(batch);
                learner.train(batch);
                learned += n;
                largest = Math.max(largest, n);
                if (TrainingPace.versionDue(
                        learner.step(),
                        publishedStep,
                        publishEverySteps,
                        startedAt,
                        publishedAt,
                        minPublishNanos)) {
                    publishedStep = learner.step();
                    publishedAt = startedAt;
                    learner.nextVersion();
                    ModelState state = learner.snapshot();
                    scorer.close();
                    scorer = OnlineLearner.evaluator(state, device);
                    published.set(state);
                }
            }
            return new long[] {learned, largest};
        } finally {
            scorer.close();
        }
    }

    /**
     * Answered events on their way to the trainer (their answer times), by the live trainer's
     * rules: the pace's stride keeps some as they come ({@link TrainingPace#keep}); a step takes
     * those that wait, from {@code trainBatch} up to the pace's batch; while a step runs and {@code
     * maxBatch} wait, {@link #add} waits for the step until the oldest has waited {@code
     * maxLagNanos}, then keeps every second one ({@link TrainingPace#everySecond}). The pace is
     * only used under this lock.
     */
    static final class Backlog {
        private final TrainingPace pace;
        private final int trainBatch;
        private final int maxBatch;
        private final long maxLagNanos;
        private List<Long> waiting = new ArrayList<>();
        private boolean stepping;
        private boolean closed;
        private long skipped;
        private int largestStride = 1;

        Backlog(TrainingPace pace, int trainBatch, int maxBatch, long maxLagNanos) {
            this.pace = pace;
            this.trainBatch = trainBatch;
            this.maxBatch = maxBatch;
            this.maxLagNanos = maxLagNanos;
        }

        /** The serving thread: {@code count} events answered at {@code nanos}. */
        synchronized void add(long nanos, int count) throws InterruptedException {
            for (int i = 0; i < count; i++) {
                if (!pace.keep()) {
                    skipped++;
                    continue;
                }
                waiting.add(nanos);
                if (!stepping) {
                    if (waiting.size() >= trainBatch) {
                        notifyAll();
                    }
                } else if (waiting.size() >= maxBatch) {
                    makeRoom();
                }
            }
        }

        /**
         * Waits for the step in flight while {@code maxBatch} wait, until the oldest has waited the
         * max lag; then keeps every second one and counts the others as skipped.
         */
        private void makeRoom() throws InterruptedException {
            while (stepping && waiting.size() >= maxBatch) {
                long left = waiting.get(0) + maxLagNanos - System.nanoTime();
                if (left <= 0) {
                    List<Long> kept = TrainingPace.everySecond(waiting);
                    skipped += waiting.size() - kept.size();
                    waiting = kept;
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        /**
         * The step thread, its step (if any) done: waits until {@code trainBatch} examples wait,
         * takes those that wait up to the pace's batch and sizes the batches after it from how long
         * the newest of them waited. Returns how many it took, or 0 once closed with fewer than
         * {@code trainBatch} left.
         */
        synchronized int take() throws InterruptedException {
            stepping = false;
            notifyAll();
            while (waiting.size() < trainBatch && !closed) {
                wait();
            }
            if (waiting.size() < trainBatch) {
                return 0;
            }
            int n = Math.min(waiting.size(), pace.batch());
            List<Long> head = waiting.subList(0, n);
            long newest = head.get(n - 1);
            head.clear();
            pace.observe(System.nanoTime() - newest);
            largestStride = Math.max(largestStride, pace.stride());
            stepping = true;
            return n;
        }

        /** The serving thread has stopped: what waits is taken while a batch's worth is left. */
        synchronized void close() {
            closed = true;
            notifyAll();
        }

        synchronized long skipped() {
            return skipped;
        }

        synchronized int waiting() {
            return waiting.size();
        }

        synchronized int largestStride() {
            return largestStride;
        }
    }

    private static AutoCloseable serving(ModelConfig config, ModelState state, Device device) {
        return switch (config.task()) {
            case NEXT_ITEM -> Recommender.create(state, device);
            case RECONSTRUCTION -> Reconstructor.create(state, device);
            default -> Forecaster.create(state, device);
        };
    }

    /** Answers one of the pre-built query batches of the serving batch size. */
    private interface Inputs {
        void answer(AutoCloseable serving, int index, int k);
    }

    private static Inputs inputs(ModelConfig config, int rows, Random random) {
        int w = config.window();
        if (config.task() == Task.NEXT_ITEM) {
            String[][][] histories = new String[POOL][rows][];
            for (String[][] batch : histories) {
                for (int r = 0; r < rows; r++) {
                    batch[r] = history(w, random);
                }
            }
            return (serving, index, k) ->
                    ((Recommender) serving).recommend(histories[index], k, null);
        }
        float[][][] windows = new float[POOL][rows][];
        for (float[][] batch : windows) {
            for (int r = 0; r < rows; r++) {
                batch[r] = normalised(w * config.features(), random);
            }
        }
        boolean reconstruct = config.task() == Task.RECONSTRUCTION;
        return (serving, index, k) -> {
            if (reconstruct) {
                ((Reconstructor) serving).errors(windows[index]);
            } else {
                ((Forecaster) serving).forecast(windows[index]);
            }
        };
    }

    /**
     * Training rows to take batches of any size from: {@code rows} of them, a batch a slice that
     * moves with the step (the job's trainer builds each batch from its examples too).
     */
    private static Examples examples(ModelConfig config, int rows, Random random) {
        int w = config.window();
        if (config.task() == Task.NEXT_ITEM) {
            String[][] histories = new String[rows][];
            String[] next = new String[rows];
            for (int r = 0; r < rows; r++) {
                histories[r] = history(w, random);
                next[r] = item(random);
            }
            return (from, n) ->
                    Batch.items(
                            Arrays.copyOfRange(histories, from, from + n),
                            Arrays.copyOfRange(next, from, from + n));
        }
        float[][] windows = new float[rows][];
        float[][] targets = new float[rows][];
        for (int r = 0; r < rows; r++) {
            windows[r] = normalised(w * config.features(), random);
            targets[r] = normalised(config.features(), random);
        }
        boolean reconstruct = config.task() == Task.RECONSTRUCTION;
        return (from, n) -> {
            float[][] x = Arrays.copyOfRange(windows, from, from + n);
            return reconstruct
                    ? Batch.windows(x)
                    : Batch.values(x, Arrays.copyOfRange(targets, from, from + n));
        };
    }

    /** Training batches of the pre-built rows. */
    private interface Examples {
        /** The {@code n} rows from {@code from}. */
        Batch batch(int from, int n);
    }

    /** Normalised values: what the job's predictor and trainer see after the normaliser. */
    private static float[] normalised(int length, Random random) {
        float[] w = new float[length];
        for (int i = 0; i < length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        return w;
    }

    private static String[] history(int length, Random random) {
        String[] h = new String[length];
        for (int i = 0; i < length; i++) {
            h[i] = item(random);
        }
        return h;
    }

    private static String item(Random random) {
        return "item-" + random.nextInt(ITEMS);
    }
}
