package io.streamlearn.models;

import java.io.ObjectStreamException;
import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * What a model predicts, its network, and every optimizer setting: enough, with the weights, to
 * resume learning bit-exact (a {@link ModelState} carries one).
 *
 * <p>The {@link Task} picks the input and the head: {@code NEXT_VALUE} reads {@code window} steps
 * of {@code features} normalised values and predicts a Gaussian over the next ones; {@code
 * NEXT_ITEM} reads the last {@code window} item ids of a user and scores every item in a vocabulary
 * of {@code itemCapacity} rows; {@code RECONSTRUCTION} reads a window of values and reconstructs
 * it. The {@link Family} picks the network between them. Valid pairs:
 *
 * <pre>
 * NEXT_VALUE, NEXT_ITEM   RNN, GRU, LSTM, ATTENTION, MLP
 * RECONSTRUCTION          LSTM_AUTOENCODER
 * </pre>
 *
 * Immutable and {@link Serializable}; validated once in {@link Builder#build()}, whose errors name
 * the field and the value.
 */
public final class ModelConfig implements Serializable {

    private static final long serialVersionUID = 4L;

    /** Largest window, hidden size or feature count accepted; keeps every tensor size in an int. */
    static final int MAX_DIMENSION = 4096;

    /** Largest number of stacked layers accepted. */
    static final int MAX_LAYERS = 16;

    /** Largest item vocabulary: 2^24 rows (a 64-wide table of them is 4 GiB of floats). */
    static final int MAX_ITEM_CAPACITY = 1 << 24;

    /** Most successor slots per item ({@code itemSuccessors}). */
    static final int MAX_ITEM_SUCCESSORS = 1024;

    /** In {@link Softmax#AUTO}, vocabularies up to this many rows use the full softmax. */
    public static final int FULL_SOFTMAX_MAX_ROWS = 50_000;

    /** What the model predicts; decides the input and the head. */
    public enum Task {
        /** The next values of a numeric series (Gaussian head: mean and log-variance). */
        NEXT_VALUE,
        /** The next item of a user's sequence (softmax over an item vocabulary). */
        NEXT_ITEM,
        /** The window itself (an autoencoder; the error is the anomaly score). */
        RECONSTRUCTION
    }

    /** The network between the input and the head. */
    public enum Family {
        /** Elman RNN, tanh (PyTorch's fused kernel). */
        RNN,
        /** Gated recurrent unit (Cho et al. 2014). */
        GRU,
        /** Long short-term memory (Hochreiter and Schmidhuber 1997). */
        LSTM,
        /** Causal self-attention encoder with learned positions (SASRec, Kang and McAuley 2018). */
        ATTENTION,
        /** LSTM encoder and LSTM decoder that reconstruct the window (Malhotra et al. 2016). */
        LSTM_AUTOENCODER,
        /** A feed-forward network over the flattened window, as a baseline. */
        MLP;

        /** Whether the family carries a hidden state from step to step. */
        public boolean isRecurrent() {
            return this == RNN || this == GRU || this == LSTM;
        }

        /** Whether the task can use this family. */
        public boolean supports(Task task) {
            return task == Task.RECONSTRUCTION
                    ? this == LSTM_AUTOENCODER
                    : this != LSTM_AUTOENCODER;
        }
    }

    /** The optimizer that turns gradients into weight updates (run in Java, see OnlineLearner). */
    public enum Optimizer {
        /** Adam (Kingma and Ba 2015), with decoupled weight decay (AdamW). */
        ADAM,
        /** Stochastic gradient descent with heavy-ball momentum and L2 weight decay. */
        SGD_MOMENTUM
    }

    /** How NEXT_ITEM normalises its scores during training. */
    public enum Softmax {
        /** FULL up to {@link #FULL_SOFTMAX_MAX_ROWS} rows of capacity, SAMPLED beyond. */
        AUTO,
        /** Every assigned item in the denominator. */
        FULL,
        /** {@code negatives} sampled items in the denominator, with the log-Q correction. */
        SAMPLED
    }

    /**
     * The output layer of NEXT_ITEM: how the query turns into one score per item.
     *
     * <p>On a first-order chain a transition table learns each transition from one sighting; a tied
     * head must move the input embeddings, which also carry every other transition, and it has no
     * per-item bias for popularity. On the demo's Markov stream the untied head with bias learns
     * several times faster (docs/models/README.md).
     */
    public enum ItemOutput {
        /** Scores are dot products with the input embeddings (as SASRec); no bias. */
        TIED,
        /** A separate output table and a per-item bias: score = query . out[item] + bias[item]. */
        UNTIED
    }

    private final Task task;
    private final Family family;
    private final int window;
    private final int features;
    private final int hiddenSize;
    private final int layers;
    private final float dropout;
    private final int heads;
    private final int itemCapacity;
    private final Softmax softmax;
    private final int negatives;
    private final ItemOutput itemOutput;
    private final int itemSuccessors;
    private final float successorLearningRate;
    private final Optimizer optimizer;
    private final float learningRate;
    private final float momentum;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float weightDecay;
    private final int warmupSteps;
    private final float gradientClip;
    private final long seed;

    private ModelConfig(Builder b) {
        task = b.task;
        family = b.family;
        window = b.window;
        features = b.features;
        hiddenSize = b.hiddenSize;
        layers = b.layers;
        dropout = b.dropout;
        heads = b.heads;
        itemCapacity = b.itemCapacity;
        softmax = b.softmax;
        negatives = b.negatives;
        itemOutput = b.itemOutput;
        itemSuccessors = b.itemSuccessors;
        successorLearningRate = b.successorLearningRate;
        optimizer = b.optimizer;
        learningRate = b.learningRate;
        momentum = b.momentum;
        beta1 = b.beta1;
        beta2 = b.beta2;
        epsilon = b.epsilon;
        weightDecay = b.weightDecay;
        warmupSteps = b.warmupSteps;
        gradientClip = b.gradientClip;
        seed = b.seed;
    }

    /**
     * Returns a builder with the defaults: NEXT_VALUE, LSTM, window 16, 1 feature, 32 hidden units,
     * 1 layer, no dropout, 2 heads, 10,000 item rows, AUTO softmax with 256 negatives, a TIED item
     * output (an UNTIED one with 16 successor slots per item, learning at rate 2.0), Adam with
     * learning rate 0.005, betas 0.9 and 0.999, epsilon 1e-8, no weight decay, no warm-up, gradient
     * clip 1.0, seed 42.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder holding this config's values, to derive a changed copy.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        return new Builder()
                .setTask(task)
                .setFamily(family)
                .setWindow(window)
                .optFeatures(features)
                .optHiddenSize(hiddenSize)
                .optLayers(layers)
                .optDropout(dropout)
                .optHeads(heads)
                .optItemCapacity(itemCapacity)
                .optSoftmax(softmax)
                .optNegatives(negatives)
                .optItemOutput(itemOutput)
                .optItemSuccessors(itemSuccessors)
                .optSuccessorLearningRate(successorLearningRate)
                .optOptimizer(optimizer)
                .optLearningRate(learningRate)
                .optMomentum(momentum)
                .optBeta1(beta1)
                .optBeta2(beta2)
                .optEpsilon(epsilon)
                .optWeightDecay(weightDecay)
                .optWarmupSteps(warmupSteps)
                .optGradientClip(gradientClip)
                .optSeed(seed);
    }

    /** Returns what the model predicts. */
    public Task task() {
        return task;
    }

    /** Returns the network family. */
    public Family family() {
        return family;
    }

    /** Returns the number of past steps the model reads. */
    public int window() {
        return window;
    }

    /** Returns the values per step (1 for NEXT_ITEM: one item per step). */
    public int features() {
        return features;
    }

    /** Returns the width of every hidden layer, of the item embeddings and of attention. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** Returns the number of stacked recurrent, attention or hidden MLP layers. */
    public int layers() {
        return layers;
    }

    /** Returns the dropout rate between layers during training. */
    public float dropout() {
        return dropout;
    }

    /** Returns the number of attention heads (ATTENTION only). */
    public int heads() {
        return heads;
    }

    /** Returns the rows of the item vocabulary, row 0 (padding and unknown items) included. */
    public int itemCapacity() {
        return itemCapacity;
    }

    /** Returns the softmax mode as configured. */
    public Softmax softmax() {
        return softmax;
    }

    /** Returns whether training uses the sampled softmax, {@link Softmax#AUTO} resolved. */
    public boolean sampledSoftmax() {
        return softmax == Softmax.SAMPLED
                || (softmax == Softmax.AUTO && itemCapacity > FULL_SOFTMAX_MAX_ROWS);
    }

    /** Returns the negatives drawn per step by the sampled softmax. */
    public int negatives() {
        return negatives;
    }

    /** Returns the output layer of NEXT_ITEM. */
    public ItemOutput itemOutput() {
        return itemOutput;
    }

    /**
     * Returns the successor slots per item as configured: candidate next items, each with a learned
     * score added to the softmax's logits (see {@link #successorSlots()}).
     */
    public int itemSuccessors() {
        return itemSuccessors;
    }

    /**
     * Returns the successor slots per item the model has: {@link #itemSuccessors()} for a NEXT_ITEM
     * model with an UNTIED head, otherwise 0 (no other head has them).
     */
    public int successorSlots() {
        return task == Task.NEXT_ITEM && itemOutput == ItemOutput.UNTIED ? itemSuccessors : 0;
    }

    /** Returns the plain SGD rate of the successor slots' scores. */
    public float successorLearningRate() {
        return successorLearningRate;
    }

    /** Returns the optimizer. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** Returns the peak learning rate (reached after the warm-up). */
    public float learningRate() {
        return learningRate;
    }

    /** Returns SGD's momentum (SGD_MOMENTUM only). */
    public float momentum() {
        return momentum;
    }

    /** Returns Adam's first-moment decay. */
    public float beta1() {
        return beta1;
    }

    /** Returns Adam's second-moment decay. */
    public float beta2() {
        return beta2;
    }

    /** Returns the term added to Adam's denominator. */
    public float epsilon() {
        return epsilon;
    }

    /** Returns the weight decay of weight matrices and embeddings (0 = none). */
    public float weightDecay() {
        return weightDecay;
    }

    /** Returns the steps over which the learning rate ramps up linearly from 0. */
    public int warmupSteps() {
        return warmupSteps;
    }

    /** Returns the largest global L2 norm of a gradient; {@code Infinity} means no clipping. */
    public float gradientClip() {
        return gradientClip;
    }

    /** Returns the seed of the initial weights, dropout masks and sampled negatives. */
    public long seed() {
        return seed;
    }

    /** Re-validates a deserialized config so that a forged stream cannot bypass the builder. */
    private Object readResolve() throws ObjectStreamException {
        return toBuilder().build();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ModelConfig)) {
            return false;
        }
        ModelConfig that = (ModelConfig) o;
        return task == that.task
                && family == that.family
                && window == that.window
                && features == that.features
                && hiddenSize == that.hiddenSize
                && layers == that.layers
                && Float.compare(dropout, that.dropout) == 0
                && heads == that.heads
                && itemCapacity == that.itemCapacity
                && softmax == that.softmax
                && negatives == that.negatives
                && itemOutput == that.itemOutput
                && itemSuccessors == that.itemSuccessors
                && Float.compare(successorLearningRate, that.successorLearningRate) == 0
                && optimizer == that.optimizer
                && Float.compare(learningRate, that.learningRate) == 0
                && Float.compare(momentum, that.momentum) == 0
                && Float.compare(beta1, that.beta1) == 0
                && Float.compare(beta2, that.beta2) == 0
                && Float.compare(epsilon, that.epsilon) == 0
                && Float.compare(weightDecay, that.weightDecay) == 0
                && warmupSteps == that.warmupSteps
                && Float.compare(gradientClip, that.gradientClip) == 0
                && seed == that.seed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                task,
                family,
                window,
                features,
                hiddenSize,
                layers,
                dropout,
                heads,
                itemCapacity,
                softmax,
                negatives,
                itemOutput,
                itemSuccessors,
                successorLearningRate,
                optimizer,
                learningRate,
                momentum,
                beta1,
                beta2,
                epsilon,
                weightDecay,
                warmupSteps,
                gradientClip,
                seed);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("ModelConfig{");
        s.append(task).append(' ').append(family);
        s.append(", window=").append(window);
        s.append(", features=").append(features);
        s.append(", hiddenSize=").append(hiddenSize);
        s.append(", layers=").append(layers);
        s.append(", dropout=").append(dropout);
        if (family == Family.ATTENTION) {
            s.append(", heads=").append(heads);
        }
        if (task == Task.NEXT_ITEM) {
            s.append(", itemCapacity=").append(itemCapacity);
            s.append(", softmax=").append(softmax);
            s.append(", negatives=").append(negatives);
            s.append(", itemOutput=").append(itemOutput);
            if (itemOutput == ItemOutput.UNTIED) {
                s.append(", itemSuccessors=").append(itemSuccessors);
                s.append(", successorLearningRate=").append(successorLearningRate);
            }
        }
        s.append(", optimizer=").append(optimizer);
        s.append(", learningRate=").append(learningRate);
        if (optimizer == Optimizer.SGD_MOMENTUM) {
            s.append(", momentum=").append(momentum);
        } else {
            s.append(", beta1=").append(beta1);
            s.append(", beta2=").append(beta2);
            s.append(", epsilon=").append(epsilon);
        }
        s.append(", weightDecay=").append(weightDecay);
        s.append(", warmupSteps=").append(warmupSteps);
        s.append(", gradientClip=").append(gradientClip);
        s.append(", seed=").append(seed);
        return s.append('}').toString();
    }

    /**
     * Builds a {@link ModelConfig}: {@code setX} for what a model must decide, {@code optX} for the
     * rest; {@link #build()} checks every value.
     */
    public static final class Builder {

        private Task task = Task.NEXT_VALUE;
        private Family family = Family.LSTM;
        private int window = 16;
        private int features = 1;
        private int hiddenSize = 32;
        private int layers = 1;
        private float dropout = 0f;
        private int heads = 2;
        private int itemCapacity = 10_000;
        private Softmax softmax = Softmax.AUTO;
        private int negatives = 256;
        private ItemOutput itemOutput = ItemOutput.TIED;
        private int itemSuccessors = 16;
        private float successorLearningRate = 2.0f;
        private Optimizer optimizer = Optimizer.ADAM;
        private float learningRate = 0.005f;
        private float momentum = 0.9f;
        private float beta1 = 0.9f;
        private float beta2 = 0.999f;
        private float epsilon = 1e-8f;
        private float weightDecay = 0f;
        private int warmupSteps = 0;
        private float gradientClip = 1.0f;
        private long seed = 42L;

        private Builder() {}

        /** Sets what the model predicts (default NEXT_VALUE). */
        public Builder setTask(Task task) {
            this.task = task;
            return this;
        }

        /** Sets the network family (default LSTM). */
        public Builder setFamily(Family family) {
            this.family = family;
            return this;
        }

        /** Sets the number of past steps read, 2 to 4096 (default 16). */
        public Builder setWindow(int window) {
            this.window = window;
            return this;
        }

        /** Sets the values per step, 1 to 4096 (default 1; must be 1 for NEXT_ITEM). */
        public Builder optFeatures(int features) {
            this.features = features;
            return this;
        }

        /** Sets the hidden width, 1 to 4096 (default 32). */
        public Builder optHiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /** Sets the number of stacked layers, 1 to 16 (default 1). */
        public Builder optLayers(int layers) {
            this.layers = layers;
            return this;
        }

        /** Sets the training dropout between layers, in [0, 1) (default 0). */
        public Builder optDropout(float dropout) {
            this.dropout = dropout;
            return this;
        }

        /** Sets the attention heads; must divide the hidden size (default 2). */
        public Builder optHeads(int heads) {
            this.heads = heads;
            return this;
        }

        /** Sets the item vocabulary rows, 2 to 2^24, row 0 included (default 10,000). */
        public Builder optItemCapacity(int itemCapacity) {
            this.itemCapacity = itemCapacity;
            return this;
        }

        /** Sets the softmax mode of NEXT_ITEM training (default AUTO). */
        public Builder optSoftmax(Softmax softmax) {
            this.softmax = softmax;
            return this;
        }

        /** Sets the negatives per step of the sampled softmax, at least 1 (default 256). */
        public Builder optNegatives(int negatives) {
            this.negatives = negatives;
            return this;
        }

        /** Sets the output layer of NEXT_ITEM (default TIED; see {@link ItemOutput}). */
        public Builder optItemOutput(ItemOutput itemOutput) {
            this.itemOutput = itemOutput;
            return this;
        }

        /**
         * Sets the successor slots per item of an UNTIED NEXT_ITEM head, 0 to {@value
         * #MAX_ITEM_SUCCESSORS} (default 16; 0 turns the term off; other heads have none): a
         * full-rank, sparse transition term learned beside the factorised one (docs/models/).
         */
        public Builder optItemSuccessors(int itemSuccessors) {
            this.itemSuccessors = itemSuccessors;
            return this;
        }

        /** Sets the plain SGD rate of the successor slots, finite and above 0 (default 2.0). */
        public Builder optSuccessorLearningRate(float successorLearningRate) {
            this.successorLearningRate = successorLearningRate;
            return this;
        }

        /** Sets the optimizer (default ADAM). */
        public Builder optOptimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /** Sets the peak learning rate, finite and above 0 (default 0.005). */
        public Builder optLearningRate(float learningRate) {
            this.learningRate = learningRate;
            return this;
        }

        /** Sets SGD's momentum, in [0, 1) (default 0.9). */
        public Builder optMomentum(float momentum) {
            this.momentum = momentum;
            return this;
        }

        /** Sets Adam's first-moment decay, in [0, 1) (default 0.9). */
        public Builder optBeta1(float beta1) {
            this.beta1 = beta1;
            return this;
        }

        /** Sets Adam's second-moment decay, in [0, 1) (default 0.999). */
        public Builder optBeta2(float beta2) {
            this.beta2 = beta2;
            return this;
        }

        /** Sets the term added to Adam's denominator, finite and above 0 (default 1e-8). */
        public Builder optEpsilon(float epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        /** Sets the weight decay, finite and at least 0 (default 0). */
        public Builder optWeightDecay(float weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /** Sets the learning-rate warm-up in steps, at least 0 (default 0 = none). */
        public Builder optWarmupSteps(int warmupSteps) {
            this.warmupSteps = warmupSteps;
            return this;
        }

        /** Sets the largest global L2 norm of a gradient, above 0; Infinity = off (default 1). */
        public Builder optGradientClip(float gradientClip) {
            this.gradientClip = gradientClip;
            return this;
        }

        /** Sets the seed of weights, dropout and negatives (default 42). */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Checks every value and builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException naming the first field out of range and its value, or
         *     the task and family that do not go together
         */
        public ModelConfig build() {
            requireNonNull("task", task);
            requireNonNull("family", family);
            requireNonNull("softmax", softmax);
            requireNonNull("itemOutput", itemOutput);
            requireNonNull("optimizer", optimizer);
            if (!family.supports(task)) {
                throw new IllegalArgumentException(
                        "family "
                                + family
                                + " cannot do task "
                                + task
                                + ": "
                                + (task == Task.RECONSTRUCTION
                                        ? "RECONSTRUCTION needs LSTM_AUTOENCODER"
                                        : "LSTM_AUTOENCODER only does RECONSTRUCTION; for "
                                                + task
                                                + " use RNN, GRU, LSTM, ATTENTION or MLP"));
            }
            checkRange("window", window, 2, MAX_DIMENSION);
            checkRange("features", features, 1, MAX_DIMENSION);
            if (task == Task.NEXT_ITEM && features != 1) {
                throw new IllegalArgumentException(
                        "features must be 1 for NEXT_ITEM (one item per step) but was " + features);
            }
            checkRange("hiddenSize", hiddenSize, 1, MAX_DIMENSION);
            checkRange("layers", layers, 1, MAX_LAYERS);
            if (!(dropout >= 0f && dropout < 1f)) {
                throw new IllegalArgumentException("dropout must be in [0, 1) but was " + dropout);
            }
            checkRange("heads", heads, 1, MAX_DIMENSION);
            if (family == Family.ATTENTION && hiddenSize % heads != 0) {
                throw new IllegalArgumentException(
                        "heads must divide hiddenSize ("
                                + hiddenSize
                                + ") for ATTENTION but was "
                                + heads);
            }
            checkRange("itemCapacity", itemCapacity, 2, MAX_ITEM_CAPACITY);
            checkRange("negatives", negatives, 1, MAX_ITEM_CAPACITY);
            checkRange("itemSuccessors", itemSuccessors, 0, MAX_ITEM_SUCCESSORS);
            checkPositiveFinite("successorLearningRate", successorLearningRate);
            if (task == Task.NEXT_ITEM
                    && itemOutput == ItemOutput.UNTIED
                    && (long) itemCapacity * itemSuccessors > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "itemSuccessors times itemCapacity ("
                                + itemCapacity
                                + ") must be at most "
                                + Integer.MAX_VALUE
                                + " (one table's size) but itemSuccessors was "
                                + itemSuccessors);
            }
            checkPositiveFinite("learningRate", learningRate);
            checkUnitInterval("momentum", momentum);
            checkUnitInterval("beta1", beta1);
            checkUnitInterval("beta2", beta2);
            checkPositiveFinite("epsilon", epsilon);
            if (!(weightDecay >= 0f) || Float.isInfinite(weightDecay)) {
                throw new IllegalArgumentException(
                        "weightDecay must be finite and at least 0 but was " + weightDecay);
            }
            if (warmupSteps < 0) {
                throw new IllegalArgumentException(
                        "warmupSteps must be at least 0 but was " + warmupSteps);
            }
            if (!(gradientClip > 0f)) {
                throw new IllegalArgumentException(
                        "gradientClip must be above 0 (Infinity turns clipping off) but was "
                                + gradientClip);
            }
            return new ModelConfig(this);
        }

        private static void requireNonNull(String field, Object value) {
            if (value == null) {
                throw new IllegalArgumentException(field + " must not be null");
            }
        }

        private static void checkRange(String field, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(
                        field + " must be in [" + min + ", " + max + "] but was " + value);
            }
        }

        private static void checkPositiveFinite(String field, float value) {
            if (!(value > 0f) || Float.isInfinite(value)) {
                throw new IllegalArgumentException(
                        field + " must be finite and above 0 but was " + value);
            }
        }

        private static void checkUnitInterval(String field, float value) {
            if (!(value >= 0f && value < 1f)) {
                throw new IllegalArgumentException(field + " must be in [0, 1) but was " + value);
            }
        }
    }

    /**
     * Parses a family name case-insensitively, for configuration keys and command-line options.
     *
     * @param name e.g. {@code "gru"} or {@code "lstm_autoencoder"}
     * @return the family
     * @throws IllegalArgumentException listing the families
     */
    public static Family parseFamily(String name) {
        return parse(Family.class, "family", name);
    }

    /**
     * Parses a softmax mode case-insensitively ({@code auto}, {@code full}, {@code sampled}).
     *
     * @throws IllegalArgumentException listing the modes
     */
    public static Softmax parseSoftmax(String name) {
        return parse(Softmax.class, "softmax", name);
    }

    /**
     * Parses an item output case-insensitively ({@code tied}, {@code untied}).
     *
     * @throws IllegalArgumentException listing the choices
     */
    public static ItemOutput parseItemOutput(String name) {
        return parse(ItemOutput.class, "itemOutput", name);
    }

    /**
     * Parses an optimizer name case-insensitively ({@code adam}, {@code sgd_momentum}).
     *
     * @throws IllegalArgumentException listing the optimizers
     */
    public static Optimizer parseOptimizer(String name) {
        return parse(Optimizer.class, "optimizer", name);
    }

    /**
     * Parses an enum constant case-insensitively ({@code -} read as {@code _}).
     *
     * @throws IllegalArgumentException naming the field, the value and the choices
     */
    static <E extends Enum<E>> E parse(Class<E> type, String field, String name) {
        String key = name == null ? "" : name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(key)) {
                return e;
            }
        }
        StringBuilder choices = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            choices.append(choices.length() == 0 ? "" : ", ")
                    .append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(
                field + " must be one of " + choices + " but was '" + name + "'");
    }
}
