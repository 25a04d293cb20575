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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The model work of the streaming job without the job, at the job's batch sizes. On one thread (the
 * predictor's) events are answered in batches of the predictor's batch size (a forecast, a
 * reconstruction error or a top-K list per row, one pass per batch); on another (the trainer's) the
 * answered events are learned as the live trainer learns them: mini-batches of the trainer's batch
 * size, twice as large whenever the newest example of a batch waited longer than the trainer's
 * maximum lag, up to its maximum batch size, and back down under half the lag; each batch scored by
 * the serving version before the step, and every {@code publishEverySteps} steps a new version that
 * both the scorer and the serving thread switch to. The serving thread waits when the examples in
 * front of the trainer reach twice its maximum lag (the job's predictors are held back by its
 * backpressure the same way), so every event counted is both answered and learned. What the job
 * could sustain if Flink, Kafka, state and encoding cost nothing; {@code streamlearn bench --job}
 * divides the job's rate by it.
 */
public final class BareLoop {
    /** Distinct item ids of the next-item inputs (the demo's clickstream has 200). */
    private static final int ITEMS = 200;

    /** Pre-built inputs of each size the loops cycle through. */
    private static final int POOL = 8;

    private BareLoop() {}

    /**
     * The job's batch sizes and keep-up policy.
     *
     * @param servingBatch queries a predictor answers with one pass ({@code
     *     streamlearn.predictor.batch-size})
     * @param trainBatch examples per optimizer step ({@code streamlearn.trainer.batch-size})
     * @param maxTrainBatch the largest batch the trainer grows to ({@code
     *     streamlearn.trainer.max-batch-size})
     * @param maxLag how long examples may wait before the batch grows ({@code
     *     streamlearn.trainer.max-lag})
     * @param publishEverySteps steps per new model version ({@code
     *     streamlearn.trainer.publish-every-steps})
     */
    public record Work(
            int servingBatch,
            int trainBatch,
            int maxTrainBatch,
            Duration maxLag,
            int publishEverySteps) {
        public Work {
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
     * What one measurement did.
     *
     * @param answered events answered
     * @param learned of them, examples the trainer learned (all but fewer than a trainer batch)
     * @param seconds from the start until the trainer had learned the last full batch
     * @param largestTrainBatch the largest mini-batch the trainer took
     */
    public record Rates(long answered, long learned, double seconds, int largestTrainBatch) {
        public double servedPerSecond() {
            return answered / seconds;
        }

        public double learnedPerSecond() {
            return learned / seconds;
        }

        /** Events per second that are both answered and learned. */
        public double eventsPerSecond() {
            return Math.min(answered, learned) / seconds;
        }
    }

    /**
     * Runs the serving and the training loop side by side for {@code seconds} after a warm-up of a
     * quarter of that, each on its own thread; the time counts until the trainer has learned every
     * full batch of what was answered.
     *
     * @param k items per answer, for a next-item model
     */
    public static Rates measure(ModelConfig config, Work work, int k, double seconds, Device device)
            throws InterruptedException {
        Random random = new Random(3L);
        TreeMap<Integer, List<Batch>> batches = new TreeMap<>();
        for (int size = work.trainBatch(); ; size = Math.min(2 * size, work.maxTrainBatch())) {
            List<Batch> pool = new ArrayList<>();
            for (int i = 0; i < POOL; i++) {
                pool.add(batch(config, size, random));
            }
            batches.put(size, pool);
            if (size == work.maxTrainBatch()) {
                break;
            }
        }
        try (OnlineLearner learner = new OnlineLearner(config, device)) {
            // A few steps first, so that a next-item model knows the items it is asked about.
            for (Batch b : batches.firstEntry().getValue()) {
                learner.train(b);
            }
            Inputs inputs = inputs(config, work.servingBatch(), random);
            AtomicReference<ModelState> published = new AtomicReference<>(learner.snapshot());
            // A warm-up of a quarter of the time, which also grows the trainer's batch to what
            // the measured run starts with; then the measured run.
            TrainingPace pace =
                    new TrainingPace(
                            work.trainBatch(), work.maxTrainBatch(), work.maxLag().toNanos());
            Rates rates = null;
            for (double phase : new double[] {seconds * 0.25, seconds}) {
                rates =
                        run(
                                config, work, inputs, k, learner, batches, published, pace, phase,
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
            TreeMap<Integer, List<Batch>> batches,
            AtomicReference<ModelState> published,
            TrainingPace pace,
            double seconds,
            Device device)
            throws InterruptedException {
        Backlog backlog = new Backlog(2 * work.maxLag().toNanos());
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
                            () -> learn(work, pace, learner, batches, published, backlog, device));
            long answers = served.get();
            long[] result = learned.get();
            double elapsed = (System.nanoTime() - start) / 1e9;
            return new Rates(answers, result[0], elapsed, (int) result[1]);
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
     * The live trainer's loop, at the batch {@code pace} gives (carried from the warm-up to the
     * measured run): returns the examples learned and the largest batch taken. The pace is the job
     * trainer's policy ({@link TrainingPace}), without its sampling (the stride is not applied):
     * here the serving thread waits instead.
     */
    private static long[] learn(
            Work work,
            TrainingPace pace,
            OnlineLearner learner,
            TreeMap<Integer, List<Batch>> batches,
            AtomicReference<ModelState> published,
            Backlog backlog,
            Device device)
            throws InterruptedException {
        int size = pace.batch();
        int largest = size;
        long learned = 0;
        OnlineLearner scorer = OnlineLearner.evaluator(published.get(), device);
        try {
            for (long newest = backlog.take(size); newest >= 0; newest = backlog.take(size)) {
                List<Batch> pool = batches.get(size);
                Batch batch = pool.get((int) (learner.step() % pool.size()));
                long lag = System.nanoTime() - newest;
                scorer.evaluate(batch);
                learner.train(batch);
                learned += size;
                if (learner.step() % work.publishEverySteps() == 0) {
                    learner.nextVersion();
                    ModelState state = learner.snapshot();
                    scorer.close();
                    scorer = OnlineLearner.evaluator(state, device);
                    published.set(state);
                }
                pace.observe(lag);
                // The pool has a batch of each size the pace takes (the doublings).
                size = pace.batch();
                largest = Math.max(largest, size);
            }
            // The serving thread has stopped: what is left is learned at the smallest batch.
            for (long newest = backlog.take(work.trainBatch());
                    newest >= 0;
                    newest = backlog.take(work.trainBatch())) {
                List<Batch> pool = batches.get(work.trainBatch());
                Batch batch = pool.get((int) (learner.step() % pool.size()));
                scorer.evaluate(batch);
                learner.train(batch);
                learned += work.trainBatch();
            }
            return new long[] {learned, largest};
        } finally {
            scorer.close();
        }
    }

    /**
     * Answered events waiting for the trainer, as (answer time, count) runs. {@link #add} waits
     * while the oldest has waited longer than {@code capacityNanos} and the trainer's next batch is
     * there.
     */
    private static final class Backlog {
        private final long capacityNanos;
        private final ArrayDeque<long[]> runs = new ArrayDeque<>();
        private long size;
        private int requested = 1;
        private boolean closed;

        Backlog(long capacityNanos) {
            this.capacityNanos = capacityNanos;
        }

        synchronized void add(long nanos, int count) throws InterruptedException {
            while (size >= requested && nanos - runs.peekFirst()[0] > capacityNanos) {
                wait();
                nanos = System.nanoTime();
            }
            runs.addLast(new long[] {nanos, count});
            size += count;
            notifyAll();
        }

        /**
         * Takes {@code n} examples, waiting for them; returns the answer time of the newest, or -1
         * once closed with fewer than {@code n} left.
         */
        synchronized long take(int n) throws InterruptedException {
            requested = n;
            notifyAll();
            while (size < n && !closed) {
                wait();
            }
            if (size < n) {
                return -1;
            }
            long newest = -1;
            int left = n;
            while (left > 0) {
                long[] run = runs.peekFirst();
                int taken = (int) Math.min(left, run[1]);
                newest = run[0];
                run[1] -= taken;
                left -= taken;
                if (run[1] == 0) {
                    runs.removeFirst();
                }
            }
            size -= n;
            notifyAll();
            return newest;
        }

        synchronized void close() {
            closed = true;
            notifyAll();
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

    private static Batch batch(ModelConfig config, int size, Random random) {
        int w = config.window();
        if (config.task() == Task.NEXT_ITEM) {
            String[][] histories = new String[size][];
            String[] next = new String[size];
            for (int r = 0; r < size; r++) {
                histories[r] = history(w, random);
                next[r] = item(random);
            }
            return Batch.items(histories, next);
        }
        float[][] windows = new float[size][];
        float[][] targets = new float[size][];
        for (int r = 0; r < size; r++) {
            windows[r] = normalised(w * config.features(), random);
            targets[r] = normalised(config.features(), random);
        }
        return config.task() == Task.RECONSTRUCTION
                ? Batch.windows(windows)
                : Batch.values(windows, targets);
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
