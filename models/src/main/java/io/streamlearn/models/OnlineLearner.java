package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.streamlearn.models.ModelConfig.Task;
import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains any {@link ModelConfig} online, one optimizer step per mini-batch, with state that can be
 * saved and restored bit-exact.
 *
 * <p>Each {@link #train} step runs the network on the batch (truncated back-propagation through the
 * window: every example starts from a zero state), computes the task's loss, back-propagates, clips
 * the gradient to a global L2 norm of at most {@code gradientClip}, and updates the weights in Java
 * ({@link OptimizerStep}: Adam or SGD with momentum, weight decay, learning-rate warm-up). An
 * untied next-item head with successor slots adds their term to the logits, and after the update
 * learns them from the step's softmax by their own rule, outside the optimizer ({@link
 * SuccessorSlots}). The losses:
 *
 * <pre>
 * NEXT_VALUE      Gaussian negative log-likelihood, mean over rows and features:
 *                 0.5 (ln 2 pi + lv + (y - mu)^2 / exp(lv))
 * NEXT_ITEM       cross-entropy of the next item: full softmax over every assigned row, or the
 *                 sampled softmax (Jean et al. 2015) over the target and {@code negatives} rows
 *                 drawn from the vocabulary's popularity proposal Q (targets counted so far, plus
 *                 one), scores corrected by - ln(negatives Q(row)), accidental hits masked
 * RECONSTRUCTION  mean squared error over the window
 * </pre>
 *
 * <p>Weights and optimizer arrays are Java arrays, so that a {@link ModelState} holds them exactly.
 * A step stages its parameters in direct buffers kept from the last step and copies the gradients
 * into arrays kept likewise ({@link StepBuffers}): no host memory is allocated per step for them. A
 * batch whose loss or gradient norm is NaN or infinite is skipped: nothing changes (weights,
 * optimizer arrays, step, vocabulary), {@link #skippedSteps()} counts it and a warning is logged.
 *
 * <p>Determinism: initial weights come from {@code java.util.Random(seed)}, dropout masks from
 * PyTorch's generator seeded with (seed, step) inside the training lock, sampled negatives and the
 * fresh weights of reassigned item rows from Java generators seeded with (seed, step, row). The
 * same config and the same batches in the same order therefore give a bit-identical state, on one
 * machine type with one native build.
 *
 * <p>Threading: an instance is meant for one owner thread (its methods are synchronized, so misuse
 * is safe but serial). DJL 0.35.1's {@code PtGradientCollector} is a JVM-wide flag: two collectors
 * open at once on different threads fail ("A PtGradientCollector is already collecting"). Every
 * learner's forward and backward pass therefore holds one static lock: training steps are
 * serialised per JVM. Any other code in the JVM that opens a DJL gradient collector must not run
 * concurrently with them.
 */
public final class OnlineLearner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OnlineLearner.class);

    /**
     * Serialises gradient collection (and the generator's seed) across the JVM; see the class
     * comment. DJL's own class, not a new object: on a Flink cluster DJL loads once from {@code
     * lib/} while this class loads once per job (each job has its own classloader), so only a DJL
     * class is one lock for every job on a task manager.
     */
    private static final Object GRADIENT_LOCK = GradientCollector.class;

    private static final double HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

    private final ModelConfig config;
    private final Device device;
    private final Network network;
    private final ParameterLayout layout;
    private final NDManager manager;
    private final float[][] weights;
    private final float[][][] slots;
    private final ItemVocabulary vocabulary;
    private final SuccessorSlots successors;
    private final StepBuffers buffers;
    private final BitSet changedRows = new BitSet();
    private long step;
    private long version;
    private long skippedSteps;
    private boolean closed;

    /**
     * Creates a learner with fresh weights on the CPU; see {@link #OnlineLearner(ModelConfig,
     * Device)}.
     *
     * @param config the config
     */
    public OnlineLearner(ModelConfig config) {
        this(config, Device.cpu());
    }

    /**
     * Creates a learner with fresh weights (drawn from {@code Random(config.seed())} in layout
     * order; heads that must start at the naive forecast are zero), zero optimizer arrays, step and
     * version 0.
     *
     * @param config the config
     * @param device where the network runs; the weights and the optimizer stay in Java
     * @throws IllegalArgumentException if the device is a GPU the engine cannot use
     */
    public OnlineLearner(ModelConfig config, Device device) {
        this(
                config,
                device,
                ParameterLayout.of(config).initialWeights(config.seed()),
                emptySlots(config),
                config.task() == Task.NEXT_ITEM ? new ItemVocabulary(config.itemCapacity()) : null,
                0L,
                0L);
    }

    private OnlineLearner(
            ModelConfig config,
            Device device,
            float[][] weights,
            float[][][] slots,
            ItemVocabulary vocabulary,
            long step,
            long version) {
        this.config = config;
        this.network = new Network(config);
        this.layout = network.layout();
        this.weights = weights;
        this.slots = slots;
        this.vocabulary = vocabulary;
        this.successors = SuccessorSlots.of(config, layout, weights);
        this.step = step;
        this.version = version;
        this.manager = TorchRuntime.newBaseManager(device);
        this.device = device;
        this.buffers = new StepBuffers(layout);
    }

    /**
     * Runs {@code action} while no learner in this JVM can take a training step: a step that starts
     * meanwhile waits on the JVM-wide lock (see the class comment) until {@code action} returns.
     * For code that opens its own DJL gradient collector, and for tests that hold a trainer back on
     * purpose to show what waits for it and what does not.
     *
     * @param action what to run while training waits
     * @return what {@code action} returns
     * @throws Exception what {@code action} throws; the lock is released either way
     */
    public static <T> T whileTrainingWaits(Callable<T> action) throws Exception {
        synchronized (GRADIENT_LOCK) {
            return action.call();
        }
    }

    /**
     * Whether a thread of this JVM waits to take a training step now, because another holds the
     * JVM-wide lock (in a step, or in {@link #whileTrainingWaits}).
     *
     * @return true if some thread is blocked on the training lock
     */
    public static boolean aStepWaits() {
        int lock = System.identityHashCode(GRADIENT_LOCK);
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
            LockInfo blockedOn = info.getLockInfo();
            if (info.getThreadState() == Thread.State.BLOCKED
                    && blockedOn != null
                    && blockedOn.getIdentityHashCode() == lock
                    && blockedOn.getClassName().equals(Class.class.getName())) {
                return true;
            }
        }
        return false;
    }

    private static float[][][] emptySlots(ModelConfig config) {
        ParameterLayout layout = ParameterLayout.of(config);
        float[][][] s = new float[OptimizerStep.slots(config.optimizer())][][];
        for (int i = 0; i < s.length; i++) {
            s[i] = layout.slotZeros();
        }
        return s;
    }

    /**
     * Creates a CPU learner that continues exactly where the state's learner stopped.
     *
     * @param state the state, for example from {@link #snapshot()} or {@link ModelState#decode}
     * @return the learner
     */
    public static OnlineLearner restore(ModelState state) {
        return restore(state, Device.cpu());
    }

    /**
     * Creates a learner on a device that continues exactly where the state's learner stopped.
     *
     * @param state the state
     * @param device where the network runs
     * @return the learner
     */
    public static OnlineLearner restore(ModelState state, Device device) {
        if (!state.resumable()) {
            throw new IllegalArgumentException(
                    "model version "
                            + state.version()
                            + " is a serving copy without the optimizer's state: learning cannot"
                            + " resume from it (use OnlineLearner.evaluator to score with it)");
        }
        return new OnlineLearner(
                state.config(),
                device,
                state.weights(),
                ModelState.deepCopy(state.slotsView()),
                state.vocabulary(),
                state.step(),
                state.version());
    }

    /**
     * A learner that only evaluates ({@link #evaluate}) with the state's weights, which may be a
     * serving copy ({@link ModelState#forServing()}): its optimizer's arrays are zero, so it must
     * not train.
     *
     * @param state the weights to score with
     * @param device where the network runs
     * @return the learner
     */
    public static OnlineLearner evaluator(ModelState state, Device device) {
        return new OnlineLearner(
                state.config(),
                device,
                state.weights(),
                emptySlots(state.config()),
                state.vocabulary(),
                state.step(),
                state.version());
    }

    /**
     * Takes one optimizer step on a mini-batch.
     *
     * @param batch examples of this learner's task
     * @return the batch's mean loss before the step; NaN or infinite if the step was skipped
     * @throws IllegalArgumentException if the batch is for another task or a row has the wrong
     *     length
     * @throws IllegalStateException if the learner is closed
     */
    public synchronized float train(Batch batch) {
        checkOpen();
        Examples examples = Examples.forTraining(this, batch);
        if (examples.isEmpty()) {
            // Only NEXT_ITEM: no example's next item could get a row (more new ids than rows).
            LOG.warn("No example of a batch of {} could be scored; no step taken", batch.size());
            return Float.NaN;
        }
        TorchRuntime.configureCurrentThread();
        float loss;
        float[][] gradients = new float[weights.length][];
        int[] lengths = new int[weights.length];
        synchronized (GRADIENT_LOCK) {
            if (config.dropout() > 0f) {
                TorchRuntime.seedGenerator(mix(config.seed(), step + 1, 0x5EED));
            }
            try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = scope.getEngine().newGradientCollector()) {
                NDArray[] params = examples.parameters(scope, weights, buffers);
                for (NDArray p : params) {
                    if (p != null) {
                        p.setRequiresGradient(true);
                    }
                }
                NDArray lossArray = loss(scope, params, examples, true);
                loss = lossArray.getFloat();
                if (!Float.isFinite(loss)) {
                    skip("loss is " + loss);
                    return loss;
                }
                collector.backward(lossArray);
                for (int i = 0; i < gradients.length; i++) {
                    if (params[i] != null) {
                        gradients[i] = buffers.download(i, params[i].getGradient());
                        lengths[i] = buffers.gradientLength(i);
                    }
                }
            }
        }
        double norm = globalNorm(gradients, lengths);
        if (!Double.isFinite(norm)) {
            skip("gradient norm is " + norm + " at loss " + loss);
            return loss;
        }
        examples.commit(weights, slots);
        examples.learnSuccessors(changedRows);
        OptimizerStep update = new OptimizerStep(config, step + 1);
        double clip = config.gradientClip();
        double scale = norm > clip ? clip / norm : 1.0;
        int[] tables = network.itemTables();
        for (int i = 0; i < weights.length; i++) {
            if (layout.get(i).outsideOptimizer()) {
                continue;
            }
            float[][] tensorSlots = new float[slots.length][];
            for (int s = 0; s < slots.length; s++) {
                tensorSlots[s] = slots[s][i];
            }
            int[] rows = Arrays.binarySearch(tables, i) >= 0 ? examples.tableRows() : null;
            update.apply(layout.get(i), weights[i], tensorSlots, gradients[i], rows, scale);
        }
        step = update.step();
        examples.markChanged(vocabulary, changedRows);
        return loss;
    }

    /**
     * Takes one step on a NEXT_VALUE mini-batch: {@code train(Batch.values(windows, targets))}.
     *
     * @param windows normalised windows, one per row
     * @param targets the normalised values that followed
     * @return the loss before the step; NaN or infinite if the step was skipped
     */
    public float train(float[][] windows, float[][] targets) {
        return train(Batch.values(windows, targets));
    }

    /**
     * Computes a batch's mean loss under the current weights without learning from it: no dropout,
     * no step, no change to the vocabulary (items it does not know read as row 0, and examples
     * whose next item it does not know are left out). For comparing model versions on fresh
     * examples before serving one (guarded promotion).
     *
     * @param batch examples of this learner's task
     * @return the mean loss; NaN if no example could be scored
     * @throws IllegalStateException if the learner is closed
     */
    public synchronized float evaluate(Batch batch) {
        checkOpen();
        Examples examples = Examples.forEvaluation(this, batch);
        if (examples.isEmpty()) {
            return Float.NaN;
        }
        TorchRuntime.configureCurrentThread();
        try (NDManager scope = manager.newSubManager()) {
            NDArray[] params = examples.parameters(scope, weights, buffers);
            boolean gradMode = InferenceKernels.needsGradMode(network, params, scope);
            try (TorchRuntime.GradModeScope mode = TorchRuntime.gradMode(gradMode)) {
                return loss(scope, params, examples, false).getFloat();
            }
        }
    }

    /**
     * Evaluates a NEXT_VALUE mini-batch: {@code evaluate(Batch.values(windows, targets))}.
     *
     * @param windows normalised windows, one per row
     * @param targets the normalised values that followed
     * @return the mean loss
     */
    public float evaluate(float[][] windows, float[][] targets) {
        return evaluate(Batch.values(windows, targets));
    }

    private NDArray loss(NDManager scope, NDArray[] p, Examples e, boolean training) {
        switch (config.task()) {
            case NEXT_VALUE:
                {
                    NDArray x = e.valueInputs(scope);
                    NDArray summary = network.encode(p, x, null, training);
                    NDList gaussian = network.gaussian(p, summary, e.lastValues(scope));
                    NDArray mean = gaussian.get(0);
                    NDArray logVariance = gaussian.get(1);
                    NDArray error = e.valueTargets(scope).sub(mean);
                    NDArray nll = error.square().mul(logVariance.neg().exp()).add(logVariance);
                    return Network.plus(Network.times(nll, 0.5f).mean(), (float) HALF_LOG_TWO_PI);
                }
            case RECONSTRUCTION:
                {
                    NDArray x = e.valueInputs(scope);
                    return x.sub(network.reconstruct(p, x, training)).square().mean();
                }
            case NEXT_ITEM:
                {
                    NDArray x = network.embed(p, e.itemInputs(scope));
                    NDArray summary = network.encode(p, x, e.padding(scope), training);
                    NDArray query = network.itemQuery(p, summary, Network.lastStep(x));
                    return e.itemLoss(scope, network, p, query);
                }
            default:
                throw new IllegalStateException("no loss for " + config.task());
        }
    }

    private void skip(String why) {
        skippedSteps++;
        LOG.warn(
                "Skipped optimizer step {} ({} skipped so far): {}; model unchanged",
                step + 1,
                skippedSteps,
                why);
    }

    private static double globalNorm(float[][] gradients, int[] lengths) {
        double sum = 0;
        for (int i = 0; i < gradients.length; i++) {
            float[] g = gradients[i];
            if (g == null) {
                continue;
            }
            for (int j = 0; j < lengths[i]; j++) {
                sum += (double) g[j] * g[j];
            }
        }
        return Math.sqrt(sum);
    }

    /** A 64-bit mix of several values (SplitMix64's finaliser), for per-step seeds. */
    static long mix(long... values) {
        long h = 0x9E3779B97F4A7C15L;
        for (long v : values) {
            h ^= v;
            h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
            h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
            h ^= h >>> 31;
        }
        return h;
    }

    /** Returns the number of optimizer steps taken; skipped batches do not count. */
    public synchronized long step() {
        return step;
    }

    /** Returns the current model version. */
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
     */
    public synchronized long skippedSteps() {
        return skippedSteps;
    }

    /** Returns the config. */
    public ModelConfig config() {
        return config;
    }

    /** Returns the device the network runs on. */
    public Device device() {
        return device;
    }

    /** Returns the vocabulary's current size (NEXT_ITEM), or 0. */
    public synchronized int vocabularySize() {
        return vocabulary == null ? 0 : vocabulary.size();
    }

    /**
     * Copies the weights, optimizer arrays, vocabulary, step and version.
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
                ModelState.deepCopy(slots),
                vocabulary == null ? null : vocabulary.copy());
    }

    /**
     * Returns the item rows (NEXT_ITEM) that steps changed since the last call, and forgets them:
     * rows whose weights, optimizer arrays or vocabulary entry (id, target count, recency) a step
     * changed. Rows outside it are as they were at the last call, bit for bit, so a copy of the
     * state kept by row ({@link ModelRows}) stays current by rewriting these rows only. A learner
     * made from a state reports none of that state's rows: what it starts from is the caller's.
     *
     * @return the rows, empty for other tasks and for skipped steps
     */
    public synchronized BitSet takeChangedRows() {
        BitSet rows = (BitSet) changedRows.clone();
        changedRows.clear();
        return rows;
    }

    ItemVocabulary vocabulary() {
        return vocabulary;
    }

    /** The successor slots, a view of this learner's weights; null without them. */
    SuccessorSlots successorSlots() {
        return successors;
    }

    Network network() {
        return network;
    }

    long currentStep() {
        return step;
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

    @Override
    public String toString() {
        return "OnlineLearner{step="
                + step
                + ", version="
                + version
                + ", device="
                + device
                + ", weights="
                + Arrays.stream(weights).mapToLong(w -> w.length).sum()
                + '}';
    }
}
