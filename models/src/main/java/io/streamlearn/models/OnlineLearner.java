package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the LSTM forecaster online, one Adam step per mini-batch, with state that can be saved and
 * restored bit-exact.
 *
 * <p>Each {@link #train} step encodes the batch (see {@code WindowEncoding}: windows relative to
 * their last value, divided by a robust window scale), computes the Huber loss (delta 1) between
 * the network's normalised deltas p and the normalised targets d,
 *
 * <pre>
 * L = mean_i h(p_i - d_i),   h(e) = e^2 / 2 if |e| &lt;= 1, else |e| - 1/2
 * </pre>
 *
 * chosen over L2 because a level shift gives a normalised target far outside the usual range, and
 * Huber bounds the gradient of such an example while staying quadratic for ordinary errors. The
 * gradient g is scaled to a global L2 norm of at most {@code gradientClip}, then Adam (Kingma and
 * Ba, 2015) updates each weight w with step t = step + 1:
 *
 * <pre>
 * m = beta1 m + (1 - beta1) g        v = beta2 v + (1 - beta2) g^2
 * w = w - lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
 * </pre>
 *
 * <p>Weights and moments are Java arrays, updated in Java, so that a {@link ModelState} holds them
 * exactly (DJL's own Adam keeps its moments private and {@code saveParameters} drops them). A batch
 * whose loss or gradient norm is NaN or infinite is skipped: nothing changes, the step counter
 * included, and a warning is logged. Initial weights come from {@code java.util.Random(seed)},
 * never from the engine's generator, so the same config and the same batches in the same order give
 * a bit-identical state.
 *
 * <p>Threading: an instance is meant for one owner thread (its methods are synchronized, so misuse
 * is safe but serial). DJL 0.35.1's {@code PtGradientCollector} is a JVM-wide flag: two collectors
 * open at once on different threads fail. Every learner's forward and backward pass therefore holds
 * one static lock, so learners in one JVM train one step at a time; any other code in the JVM that
 * opens a DJL gradient collector must not run concurrently with them.
 */
public final class OnlineLearner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OnlineLearner.class);

    /**
     * Serialises gradient collection across the JVM; see the class comment. DJL's own class, not a
     * new object: on a Flink cluster DJL loads once from {@code lib/} while this class loads once
     * per job (each job has its own classloader), so only a DJL class is one lock for every job on
     * a task manager.
     */
    private static final Object GRADIENT_LOCK = GradientCollector.class;

    /** The Huber loss's switch point between quadratic and linear, in normalised units. */
    static final float HUBER_DELTA = 1.0f;

    private final ForecasterConfig config;
    private final NDManager manager;
    private final LstmNetwork network;
    private final float[][] weights;
    private final float[][] adamMean;
    private final float[][] adamVariance;
    private long step;
    private long version;
    private long skippedSteps;
    private boolean closed;

    /**
     * Creates a learner with fresh weights: LSTM weights and biases uniform in
     * [-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)] (PyTorch's default range) drawn from {@code
     * Random(config.seed())}, and a zero head, so that the untrained model predicts exactly the
     * last value. Step and version start at 0.
     *
     * @param config the config
     */
    public OnlineLearner(ForecasterConfig config) {
        this(config, Device.cpu());
    }

    /**
     * Creates a learner with fresh weights, as {@link #OnlineLearner(ForecasterConfig)}, whose
     * forward and backward passes run on {@code device}. Weights and Adam moments stay Java arrays
     * either way, so the state does not depend on the device.
     *
     * @param config the config
     * @param device where the network math runs, e.g. {@code Device.gpu(0)}
     */
    public OnlineLearner(ForecasterConfig config, Device device) {
        this(
                config,
                initialWeights(config),
                ParameterLayout.zeros(config),
                ParameterLayout.zeros(config),
                0L,
                0L,
                device);
    }

    private OnlineLearner(
            ForecasterConfig config,
            float[][] weights,
            float[][] adamMean,
            float[][] adamVariance,
            long step,
            long version,
            Device device) {
        this.config = config;
        this.weights = weights;
        this.adamMean = adamMean;
        this.adamVariance = adamVariance;
        this.step = step;
        this.version = version;
        this.manager = TorchRuntime.newBaseManager(device);
        try {
            this.network = new LstmNetwork(config, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Creates a learner that continues exactly where the state's learner stopped.
     *
     * @param state the state, for example from {@link #snapshot()} or {@link ModelState#decode}
     * @return the learner
     */
    public static OnlineLearner restore(ModelState state) {
        return restore(state, Device.cpu());
    }

    /**
     * Creates a learner that continues exactly where the state's learner stopped, on {@code
     * device}.
     *
     * @param state the state
     * @param device where the network math runs
     * @return the learner
     */
    public static OnlineLearner restore(ModelState state, Device device) {
        return new OnlineLearner(
                state.config(),
                state.weights(),
                state.adamMean(),
                state.adamVariance(),
                state.step(),
                state.version(),
                device);
    }

    private static float[][] initialWeights(ForecasterConfig config) {
        List<ParameterLayout.Tensor> tensors = ParameterLayout.of(config);
        float[][] w = ParameterLayout.zeros(config);
        Random random = new Random(config.seed());
        double bound = 1.0 / Math.sqrt(config.hiddenSize());
        // The last two tensors are the head, which stays zero.
        for (int i = 0; i < tensors.size() - 2; i++) {
            for (int j = 0; j < w[i].length; j++) {
                w[i][j] = (float) ((random.nextDouble() * 2 - 1) * bound);
            }
        }
        return w;
    }

    /**
     * Takes one Adam step on a mini-batch.
     *
     * @param windows one row per example: the last {@code window} observations of a series, oldest
     *     first, flattened to {@code window * features} values
     * @param targets one row per example: the observed next value, {@code features} values
     * @return the batch's mean Huber loss before the step; NaN or infinite if the step was skipped
     * @throws IllegalArgumentException if the batch is empty or a row has the wrong length
     * @throws IllegalStateException if the learner is closed
     */
    public synchronized float train(float[][] windows, float[][] targets) {
        checkOpen();
        WindowEncoding encoded = WindowEncoding.encode(config, windows);
        if (encoded.rows() == 0) {
            throw new IllegalArgumentException("windows must hold at least one row but held 0");
        }
        float[] normalisedTargets = encoded.encodeTargets(targets);
        TorchRuntime.configureCurrentThread();

        float loss;
        float[][] gradients = new float[weights.length][];
        synchronized (GRADIENT_LOCK) {
            try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = scope.getEngine().newGradientCollector()) {
                List<NDArray> params = network.createParameters(scope, weights, true);
                NDArray predicted = network.forward(scope, encoded, params, true);
                NDArray target =
                        scope.create(
                                normalisedTargets, new Shape(encoded.rows(), config.features()));
                NDArray lossArray = huberLoss(predicted, target);
                loss = lossArray.getFloat();
                if (!Float.isFinite(loss)) {
                    skip("loss is " + loss);
                    return loss;
                }
                collector.backward(lossArray);
                for (int i = 0; i < gradients.length; i++) {
                    gradients[i] = params.get(i).getGradient().toFloatArray();
                }
            }
        }
        double norm = globalNorm(gradients);
        if (!Double.isFinite(norm)) {
            skip("gradient norm is " + norm + " at loss " + loss);
            return loss;
        }
        adamStep(gradients, norm);
        return loss;
    }

    /**
     * The mean Huber loss of the current weights on a batch, without a step: nothing changes. The
     * trainer scores the serving version with it on each batch before learning from the batch, so
     * both versions are judged on examples neither has trained on (prequential).
     *
     * @param windows rows as for {@link #train}
     * @param targets rows as for {@link #train}
     * @return the batch's mean Huber loss; NaN or infinite where the weights or inputs are
     * @throws IllegalArgumentException if the batch is empty or a row has the wrong length
     * @throws IllegalStateException if the learner is closed
     */
    public synchronized float evaluate(float[][] windows, float[][] targets) {
        checkOpen();
        WindowEncoding encoded = WindowEncoding.encode(config, windows);
        if (encoded.rows() == 0) {
            throw new IllegalArgumentException("windows must hold at least one row but held 0");
        }
        float[] normalisedTargets = encoded.encodeTargets(targets);
        TorchRuntime.configureCurrentThread();
        try (TorchRuntime.GradModeScope noGrad = TorchRuntime.gradModeOff();
                NDManager scope = manager.newSubManager()) {
            List<NDArray> params = network.createParameters(scope, weights, false);
            NDArray predicted = network.forward(scope, encoded, params, false);
            NDArray target =
                    scope.create(normalisedTargets, new Shape(encoded.rows(), config.features()));
            return huberLoss(predicted, target).getFloat();
        }
    }

    /** Mean Huber loss; written with min() so that autograd needs no branch. */
    private static NDArray huberLoss(NDArray predicted, NDArray target) {
        NDArray error = predicted.sub(target).abs();
        NDArray quadratic = error.minimum(HUBER_DELTA);
        return quadratic.square().mul(0.5f).add(error.sub(quadratic).mul(HUBER_DELTA)).mean();
    }

    private void skip(String why) {
        skippedSteps++;
        LOG.warn(
                "Skipped optimizer step {} ({} skipped so far): {}; weights unchanged",
                step + 1,
                skippedSteps,
                why);
    }

    private static double globalNorm(float[][] gradients) {
        double sum = 0;
        for (float[] g : gradients) {
            for (float v : g) {
                sum += (double) v * v;
            }
        }
        return Math.sqrt(sum);
    }

    private void adamStep(float[][] gradients, double norm) {
        double clip = config.gradientClip();
        double gradScale = norm > clip ? clip / norm : 1.0;
        double beta1 = config.beta1();
        double beta2 = config.beta2();
        long t = step + 1;
        double correction1 = 1.0 - Math.pow(beta1, t);
        double correction2 = 1.0 - Math.pow(beta2, t);
        double lr = config.learningRate();
        double eps = config.epsilon();
        for (int i = 0; i < weights.length; i++) {
            float[] w = weights[i];
            float[] m = adamMean[i];
            float[] v = adamVariance[i];
            float[] g = gradients[i];
            for (int j = 0; j < w.length; j++) {
                double gj = g[j] * gradScale;
                double mj = beta1 * m[j] + (1.0 - beta1) * gj;
                double vj = beta2 * v[j] + (1.0 - beta2) * gj * gj;
                m[j] = (float) mj;
                v[j] = (float) vj;
                double update = lr * (mj / correction1) / (Math.sqrt(vj / correction2) + eps);
                w[j] = (float) (w[j] - update);
            }
        }
        step = t;
    }

    /**
     * Returns the number of optimizer steps taken; skipped batches do not count.
     *
     * @return the step count
     */
    public synchronized long step() {
        return step;
    }

    /**
     * Returns the current model version.
     *
     * @return the version
     */
    public synchronized long version() {
        return version;
    }

    /**
     * Advances the model version; the trainer calls it when it publishes a model.
     *
     * @return the new version
     */
    public synchronized long nextVersion() {
        return ++version;
    }

    /**
     * Returns how many batches this instance skipped for a non-finite loss or gradient. Not part of
     * {@link ModelState}: it is a metric, not needed to resume.
     *
     * @return the count since this instance was created
     */
    public synchronized long skippedSteps() {
        return skippedSteps;
    }

    /**
     * Returns the config.
     *
     * @return the config
     */
    public ForecasterConfig config() {
        return config;
    }

    /**
     * Copies the weights, Adam moments, step and version.
     *
     * @return the state
     * @throws IllegalStateException if the learner is closed
     */
    public synchronized ModelState snapshot() {
        checkOpen();
        return new ModelState(
                config,
                version,
                step,
                ModelState.deepCopy(weights),
                ModelState.deepCopy(adamMean),
                ModelState.deepCopy(adamVariance));
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("OnlineLearner is closed");
        }
    }

    /** The number of native arrays this instance holds now; for tests that watch for leaks. */
    synchronized int managedArrayCount() {
        return manager.getManagedArrays().size();
    }

    /** Releases the native memory; later calls to train or snapshot fail. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
