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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The model work of the streaming job without the job: per event one answer at batch 1 (a forecast,
 * a reconstruction error or a top-K list, as the job's predictor makes them today) on one thread,
 * and one optimizer step per {@code batch} answered events on another (the trainer's), with the
 * same model configuration. The serving thread hands each full batch to the training thread through
 * a short queue and waits when the queue is full, as the job's predictor is held back by a trainer
 * that lags. What the job could sustain if Flink, Kafka, state and encoding cost nothing. {@code
 * streamlearn bench --job} divides the job's rate by it.
 */
public final class BareLoop {
    /** Distinct item ids of the next-item inputs (the demo's clickstream has 200). */
    private static final int ITEMS = 200;

    /** Pre-built inputs the loops cycle through. */
    private static final int POOL = 16;

    /** Batches that may wait for the trainer before serving waits too. */
    private static final int QUEUE = 4;

    private BareLoop() {}

    /**
     * Events answered and learned per second.
     *
     * @param servedPerSecond answers per second at batch 1
     * @param learnedPerSecond training examples per second
     */
    public record Rates(double servedPerSecond, double learnedPerSecond) {
        /** Events per second that are both answered and learned. */
        public double eventsPerSecond() {
            return Math.min(servedPerSecond, learnedPerSecond);
        }
    }

    /**
     * Runs the serving and the training loop side by side for {@code seconds} after a warm-up, each
     * on its own thread; the time counts until the trainer has learned every full batch.
     *
     * @param batch examples per optimizer step (the trainer's batch size)
     * @param k items per answer, for a next-item model
     */
    public static Rates measure(ModelConfig config, int batch, int k, double seconds, Device device)
            throws InterruptedException {
        Random random = new Random(3L);
        List<Batch> batches = new ArrayList<>();
        for (int i = 0; i < POOL; i++) {
            batches.add(batch(config, batch, random));
        }
        try (OnlineLearner learner = new OnlineLearner(config, device)) {
            // A few steps first, so that a next-item model knows the items it is asked about.
            for (Batch b : batches) {
                learner.train(b);
            }
            ModelState state = learner.snapshot();
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try (AutoCloseable serving = serving(config, state, device)) {
                Runnable answer = answer(config, serving, k, random);
                // Warm-up: both loops for a quarter of the budget.
                run(answer, learner, batches, batch, seconds * 0.25, threads);
                return run(answer, learner, batches, batch, seconds, threads);
            } catch (ExecutionException e) {
                throw new IllegalStateException("the bare loop failed: " + e.getCause(), e);
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("closing the bare loop's model failed", e);
            } finally {
                threads.shutdownNow();
            }
        }
    }

    private static Rates run(
            Runnable answer,
            OnlineLearner learner,
            List<Batch> batches,
            int batch,
            double seconds,
            ExecutorService threads)
            throws InterruptedException, ExecutionException {
        BlockingQueue<Optional<Batch>> queue = new ArrayBlockingQueue<>(QUEUE);
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        Future<Long> served =
                threads.submit(
                        () -> {
                            long n = 0;
                            while (System.nanoTime() < end) {
                                answer.run();
                                n++;
                                if (n % batch == 0) {
                                    queue.put(Optional.of(batches.get((int) (n / batch) % POOL)));
                                }
                            }
                            queue.put(Optional.empty());
                            return n;
                        });
        Future<Long> learned =
                threads.submit(
                        () -> {
                            long n = 0;
                            for (Optional<Batch> b = queue.take();
                                    b.isPresent();
                                    b = queue.take()) {
                                learner.train(b.get());
                                n += batch;
                            }
                            return n;
                        });
        long answers = served.get();
        long examples = learned.get();
        double elapsed = (System.nanoTime() - start) / 1e9;
        // The last partial batch is not learned; it is not counted as served either.
        return new Rates(answers / batch * batch / elapsed, examples / elapsed);
    }

    private static AutoCloseable serving(ModelConfig config, ModelState state, Device device) {
        return switch (config.task()) {
            case NEXT_ITEM -> Recommender.create(state, device);
            case RECONSTRUCTION -> Reconstructor.create(state, device);
            default -> Forecaster.create(state, device);
        };
    }

    /** One answer at batch 1 from the serving model, on inputs drawn up front. */
    private static Runnable answer(
            ModelConfig config, AutoCloseable serving, int k, Random random) {
        int w = config.window();
        int values = w * config.features();
        if (config.task() == Task.NEXT_ITEM) {
            Recommender recommender = (Recommender) serving;
            String[][][] histories = new String[POOL][][];
            for (int i = 0; i < POOL; i++) {
                histories[i] = new String[][] {history(w, random)};
            }
            int[] next = {0};
            return () -> recommender.recommend(histories[next[0]++ % POOL], k, null);
        }
        float[][][] windows = new float[POOL][][];
        for (int i = 0; i < POOL; i++) {
            windows[i] = new float[][] {normalised(values, random)};
        }
        int[] next = {0};
        if (config.task() == Task.RECONSTRUCTION) {
            Reconstructor reconstructor = (Reconstructor) serving;
            return () -> reconstructor.errors(windows[next[0]++ % POOL]);
        }
        Forecaster forecaster = (Forecaster) serving;
        return () -> forecaster.forecast(windows[next[0]++ % POOL]);
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
