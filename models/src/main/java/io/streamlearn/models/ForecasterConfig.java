package io.streamlearn.models;

import java.io.ObjectStreamException;
import java.io.Serializable;
import java.util.Objects;

/**
 * Shape and optimizer settings of an LSTM next-value forecaster.
 *
 * <p>The network reads {@code window} time steps of {@code features} values each, runs a stack of
 * {@code layers} LSTM layers of {@code hiddenSize} units and maps the last hidden state to {@code
 * features} outputs. Training uses Adam with global-norm gradient clipping; every setting of the
 * optimizer lives here so that a {@link ModelState} carrying this config is enough to resume
 * learning bit-exact. Immutable; validated once in {@link Builder#build()}.
 */
public final class ForecasterConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Largest window, hidden size or feature count accepted; keeps every tensor size in an int. */
    static final int MAX_DIMENSION = 4096;

    /** Largest number of stacked LSTM layers accepted. */
    static final int MAX_LAYERS = 16;

    private final int window;
    private final int features;
    private final int hiddenSize;
    private final int layers;
    private final float learningRate;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float gradientClip;
    private final long seed;

    private ForecasterConfig(Builder builder) {
        window = builder.window;
        features = builder.features;
        hiddenSize = builder.hiddenSize;
        layers = builder.layers;
        learningRate = builder.learningRate;
        beta1 = builder.beta1;
        beta2 = builder.beta2;
        epsilon = builder.epsilon;
        gradientClip = builder.gradientClip;
        seed = builder.seed;
    }

    /**
     * Returns a builder with the defaults: window 16, 1 feature, 32 hidden units, 1 layer, Adam
     * with learning rate 0.005, betas 0.9 and 0.999, epsilon 1e-8, gradient clip 1.0, seed 42.
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
                .setWindow(window)
                .optFeatures(features)
                .optHiddenSize(hiddenSize)
                .optLayers(layers)
                .optLearningRate(learningRate)
                .optBeta1(beta1)
                .optBeta2(beta2)
                .optEpsilon(epsilon)
                .optGradientClip(gradientClip)
                .optSeed(seed);
    }

    /**
     * Returns the number of past observations the model reads.
     *
     * @return the window length in time steps
     */
    public int window() {
        return window;
    }

    /**
     * Returns the number of values per observation (and per prediction).
     *
     * @return the feature count
     */
    public int features() {
        return features;
    }

    /**
     * Returns the number of units of each LSTM layer.
     *
     * @return the hidden size
     */
    public int hiddenSize() {
        return hiddenSize;
    }

    /**
     * Returns the number of stacked LSTM layers.
     *
     * @return the layer count
     */
    public int layers() {
        return layers;
    }

    /**
     * Returns Adam's step size.
     *
     * @return the learning rate
     */
    public float learningRate() {
        return learningRate;
    }

    /**
     * Returns Adam's decay rate of the first moment.
     *
     * @return beta1
     */
    public float beta1() {
        return beta1;
    }

    /**
     * Returns Adam's decay rate of the second moment.
     *
     * @return beta2
     */
    public float beta2() {
        return beta2;
    }

    /**
     * Returns the term added to Adam's denominator.
     *
     * @return epsilon
     */
    public float epsilon() {
        return epsilon;
    }

    /**
     * Returns the largest global L2 norm a gradient may have; larger ones are scaled down to it.
     *
     * @return the clip norm; {@code Float.POSITIVE_INFINITY} means no clipping
     */
    public float gradientClip() {
        return gradientClip;
    }

    /**
     * Returns the seed of the initial weights.
     *
     * @return the seed
     */
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
        if (!(o instanceof ForecasterConfig)) {
            return false;
        }
        ForecasterConfig that = (ForecasterConfig) o;
        return window == that.window
                && features == that.features
                && hiddenSize == that.hiddenSize
                && layers == that.layers
                && Float.compare(learningRate, that.learningRate) == 0
                && Float.compare(beta1, that.beta1) == 0
                && Float.compare(beta2, that.beta2) == 0
                && Float.compare(epsilon, that.epsilon) == 0
                && Float.compare(gradientClip, that.gradientClip) == 0
                && seed == that.seed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                window,
                features,
                hiddenSize,
                layers,
                learningRate,
                beta1,
                beta2,
                epsilon,
                gradientClip,
                seed);
    }

    @Override
    public String toString() {
        return "ForecasterConfig{window="
                + window
                + ", features="
                + features
                + ", hiddenSize="
                + hiddenSize
                + ", layers="
                + layers
                + ", learningRate="
                + learningRate
                + ", beta1="
                + beta1
                + ", beta2="
                + beta2
                + ", epsilon="
                + epsilon
                + ", gradientClip="
                + gradientClip
                + ", seed="
                + seed
                + '}';
    }

    /** Builds a {@link ForecasterConfig}; {@link #build()} checks every value. */
    public static final class Builder {

        private int window = 16;
        private int features = 1;
        private int hiddenSize = 32;
        private int layers = 1;
        private float learningRate = 0.005f;
        private float beta1 = 0.9f;
        private float beta2 = 0.999f;
        private float epsilon = 1e-8f;
        private float gradientClip = 1.0f;
        private long seed = 42L;

        private Builder() {}

        /**
         * Sets the number of past observations the model reads (default 16).
         *
         * @param window the window length, 2 to 4096
         * @return this builder
         */
        public Builder setWindow(int window) {
            this.window = window;
            return this;
        }

        /**
         * Sets the number of values per observation (default 1).
         *
         * @param features the feature count, 1 to 4096
         * @return this builder
         */
        public Builder optFeatures(int features) {
            this.features = features;
            return this;
        }

        /**
         * Sets the number of units of each LSTM layer (default 32).
         *
         * @param hiddenSize the hidden size, 1 to 4096
         * @return this builder
         */
        public Builder optHiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /**
         * Sets the number of stacked LSTM layers (default 1).
         *
         * @param layers the layer count, 1 to 16
         * @return this builder
         */
        public Builder optLayers(int layers) {
            this.layers = layers;
            return this;
        }

        /**
         * Sets Adam's step size (default 0.005).
         *
         * @param learningRate a finite value above 0
         * @return this builder
         */
        public Builder optLearningRate(float learningRate) {
            this.learningRate = learningRate;
            return this;
        }

        /**
         * Sets Adam's first-moment decay (default 0.9).
         *
         * @param beta1 a value in [0, 1)
         * @return this builder
         */
        public Builder optBeta1(float beta1) {
            this.beta1 = beta1;
            return this;
        }

        /**
         * Sets Adam's second-moment decay (default 0.999).
         *
         * @param beta2 a value in [0, 1)
         * @return this builder
         */
        public Builder optBeta2(float beta2) {
            this.beta2 = beta2;
            return this;
        }

        /**
         * Sets the term added to Adam's denominator (default 1e-8).
         *
         * @param epsilon a finite value above 0
         * @return this builder
         */
        public Builder optEpsilon(float epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        /**
         * Sets the largest global L2 norm of a gradient (default 1.0).
         *
         * @param gradientClip a value above 0; {@code Float.POSITIVE_INFINITY} turns clipping off
         * @return this builder
         */
        public Builder optGradientClip(float gradientClip) {
            this.gradientClip = gradientClip;
            return this;
        }

        /**
         * Sets the seed of the initial weights (default 42).
         *
         * @param seed any value
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Checks every value and builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException naming the first field out of range and its value
         */
        public ForecasterConfig build() {
            checkRange("window", window, 2, MAX_DIMENSION);
            checkRange("features", features, 1, MAX_DIMENSION);
            checkRange("hiddenSize", hiddenSize, 1, MAX_DIMENSION);
            checkRange("layers", layers, 1, MAX_LAYERS);
            checkPositiveFinite("learningRate", learningRate);
            checkUnitInterval("beta1", beta1);
            checkUnitInterval("beta2", beta2);
            checkPositiveFinite("epsilon", epsilon);
            if (!(gradientClip > 0f)) {
                throw new IllegalArgumentException(
                        "gradientClip must be above 0 (Infinity turns clipping off) but was "
                                + gradientClip);
            }
            return new ForecasterConfig(this);
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
}
