package io.streamlearn.models;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * Everything needed to resume learning bit-exact: the config, the model version, the optimizer
 * step, the weights and Adam's first and second moments, one array per tensor in the order of
 * {@code ParameterLayout} (documented in {@code docs/models/lstm-forecaster.md}).
 *
 * <p>It has one binary codec, used by Flink state and by the model store alike. Layout, all numbers
 * big-endian, floats as their raw IEEE-754 bits:
 *
 * <pre>
 * byte   FORMAT_VERSION (1)
 * int    window, features, hiddenSize, layers
 * float  learningRate, beta1, beta2, epsilon, gradientClip
 * long   seed, version, step
 * 3 x    { int count; count x { int length; length x float } }   weights, adamMean, adamVariance
 * int    CRC-32 of every byte before it
 * </pre>
 *
 * <p>Shapes are not stored: they follow from the config. Equality is bit-exact on every array.
 * Immutable; accessors return copies.
 */
public final class ModelState {

    /** The codec version written by {@link #encode()} and the only one {@link #decode} reads. */
    public static final byte FORMAT_VERSION = 1;

    private static final int CONFIG_BYTES = 4 * 4 + 5 * 4 + 8;
    private static final int CHECKSUM_BYTES = 4;

    private final ForecasterConfig config;
    private final long version;
    private final long step;
    private final float[][] weights;
    private final float[][] adamMean;
    private final float[][] adamVariance;

    /** Takes ownership of the arrays: callers pass copies nobody else holds. */
    ModelState(
            ForecasterConfig config,
            long version,
            long step,
            float[][] weights,
            float[][] adamMean,
            float[][] adamVariance) {
        this.config = Objects.requireNonNull(config, "config");
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0 but was " + version);
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0 but was " + step);
        }
        ParameterLayout.check(config, "weights", weights);
        ParameterLayout.check(config, "adamMean", adamMean);
        ParameterLayout.check(config, "adamVariance", adamVariance);
        this.version = version;
        this.step = step;
        this.weights = weights;
        this.adamMean = adamMean;
        this.adamVariance = adamVariance;
    }

    /**
     * Returns the config of the model.
     *
     * @return the config
     */
    public ForecasterConfig config() {
        return config;
    }

    /**
     * Returns the model version: how many times the learner published a model.
     *
     * @return the version
     */
    public long version() {
        return version;
    }

    /**
     * Returns the number of optimizer steps taken (skipped steps not counted).
     *
     * @return the step count
     */
    public long step() {
        return step;
    }

    /**
     * Returns a copy of the weights, one array per tensor.
     *
     * @return the weights
     */
    public float[][] weights() {
        return deepCopy(weights);
    }

    /**
     * Returns a copy of Adam's first moments, shaped like {@link #weights()}.
     *
     * @return the first moments
     */
    public float[][] adamMean() {
        return deepCopy(adamMean);
    }

    /**
     * Returns a copy of Adam's second moments, shaped like {@link #weights()}.
     *
     * @return the second moments
     */
    public float[][] adamVariance() {
        return deepCopy(adamVariance);
    }

    /** The weights without a copy, for readers in this package that do not modify them. */
    float[][] weightsView() {
        return weights;
    }

    /** The first moments without a copy, for readers in this package. */
    float[][] adamMeanView() {
        return adamMean;
    }

    /** The second moments without a copy, for readers in this package. */
    float[][] adamVarianceView() {
        return adamVariance;
    }

    /**
     * Returns this state with another version number; arrays are shared, as both are immutable.
     *
     * @param version the new version, at least 0
     * @return the new state
     */
    public ModelState withVersion(long version) {
        return new ModelState(config, version, step, weights, adamMean, adamVariance);
    }

    /**
     * Encodes this state in format {@link #FORMAT_VERSION}.
     *
     * @return the bytes
     */
    public byte[] encode() {
        int size = 1 + CONFIG_BYTES + 8 + 8;
        size += groupBytes(weights) + groupBytes(adamMean) + groupBytes(adamVariance);
        size += CHECKSUM_BYTES;
        ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.BIG_ENDIAN);
        buf.put(FORMAT_VERSION);
        buf.putInt(config.window());
        buf.putInt(config.features());
        buf.putInt(config.hiddenSize());
        buf.putInt(config.layers());
        buf.putInt(Float.floatToRawIntBits(config.learningRate()));
        buf.putInt(Float.floatToRawIntBits(config.beta1()));
        buf.putInt(Float.floatToRawIntBits(config.beta2()));
        buf.putInt(Float.floatToRawIntBits(config.epsilon()));
        buf.putInt(Float.floatToRawIntBits(config.gradientClip()));
        buf.putLong(config.seed());
        buf.putLong(version);
        buf.putLong(step);
        putGroup(buf, weights);
        putGroup(buf, adamMean);
        putGroup(buf, adamVariance);
        CRC32 crc = new CRC32();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        return buf.array();
    }

    /**
     * Decodes bytes written by {@link #encode()}.
     *
     * @param bytes the encoded state
     * @return the state
     * @throws IllegalArgumentException if the format version is not {@link #FORMAT_VERSION}, or the
     *     bytes are truncated, corrupt or describe an invalid state
     */
    public static ModelState decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new IllegalArgumentException("ModelState bytes are empty");
        }
        if (bytes[0] != FORMAT_VERSION) {
            throw new IllegalArgumentException(
                    "Unsupported ModelState format version "
                            + bytes[0]
                            + "; this build reads format version "
                            + FORMAT_VERSION);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        buf.get();
        try {
            int window = buf.getInt();
            int features = buf.getInt();
            int hiddenSize = buf.getInt();
            int layers = buf.getInt();
            float learningRate = Float.intBitsToFloat(buf.getInt());
            float beta1 = Float.intBitsToFloat(buf.getInt());
            float beta2 = Float.intBitsToFloat(buf.getInt());
            float epsilon = Float.intBitsToFloat(buf.getInt());
            float gradientClip = Float.intBitsToFloat(buf.getInt());
            long seed = buf.getLong();
            long version = buf.getLong();
            long step = buf.getLong();
            float[][] weights = getGroup(buf, "weights");
            float[][] adamMean = getGroup(buf, "adamMean");
            float[][] adamVariance = getGroup(buf, "adamVariance");
            int checked = buf.position();
            int stored = buf.getInt();
            CRC32 crc = new CRC32();
            crc.update(bytes, 0, checked);
            if (stored != (int) crc.getValue()) {
                throw new IllegalArgumentException(
                        "ModelState bytes are corrupt: CRC-32 mismatch over " + checked + " bytes");
            }
            if (buf.hasRemaining()) {
                throw new IllegalArgumentException(
                        "ModelState bytes are corrupt: "
                                + buf.remaining()
                                + " unexpected bytes after the checksum");
            }
            ForecasterConfig config =
                    ForecasterConfig.builder()
                            .setWindow(window)
                            .optFeatures(features)
                            .optHiddenSize(hiddenSize)
                            .optLayers(layers)
                            .optLearningRate(learningRate)
                            .optBeta1(beta1)
                            .optBeta2(beta2)
                            .optEpsilon(epsilon)
                            .optGradientClip(gradientClip)
                            .optSeed(seed)
                            .build();
            return new ModelState(config, version, step, weights, adamMean, adamVariance);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "ModelState bytes are truncated: "
                            + bytes.length
                            + " bytes end before the state does",
                    e);
        }
    }

    private static int groupBytes(float[][] arrays) {
        int n = 4;
        for (float[] a : arrays) {
            n += 4 + 4 * a.length;
        }
        return n;
    }

    private static void putGroup(ByteBuffer buf, float[][] arrays) {
        buf.putInt(arrays.length);
        for (float[] a : arrays) {
            buf.putInt(a.length);
            for (float v : a) {
                buf.putInt(Float.floatToRawIntBits(v));
            }
        }
    }

    private static float[][] getGroup(ByteBuffer buf, String what) {
        int count = buf.getInt();
        // Each array costs at least its 4-byte length, so a larger count cannot be genuine.
        if (count < 0 || count > buf.remaining() / 4) {
            throw new IllegalArgumentException(
                    "ModelState bytes are truncated or corrupt: "
                            + what
                            + " array count "
                            + count
                            + " at offset "
                            + (buf.position() - 4)
                            + " does not fit the "
                            + buf.remaining()
                            + " remaining bytes");
        }
        float[][] arrays = new float[count][];
        for (int i = 0; i < count; i++) {
            int length = buf.getInt();
            if (length < 0 || length > buf.remaining() / 4) {
                throw new IllegalArgumentException(
                        "ModelState bytes are truncated or corrupt: "
                                + what
                                + "["
                                + i
                                + "] length "
                                + length
                                + " at offset "
                                + (buf.position() - 4)
                                + " does not fit the "
                                + buf.remaining()
                                + " remaining bytes");
            }
            float[] a = new float[length];
            for (int j = 0; j < length; j++) {
                a[j] = Float.intBitsToFloat(buf.getInt());
            }
            arrays[i] = a;
        }
        return arrays;
    }

    static float[][] deepCopy(float[][] arrays) {
        float[][] copy = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            copy[i] = arrays[i].clone();
        }
        return copy;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ModelState)) {
            return false;
        }
        ModelState that = (ModelState) o;
        return version == that.version
                && step == that.step
                && config.equals(that.config)
                && bitEqual(weights, that.weights)
                && bitEqual(adamMean, that.adamMean)
                && bitEqual(adamVariance, that.adamVariance);
    }

    /** Compares raw bits, so that NaNs with different payloads and 0.0 and -0.0 differ. */
    private static boolean bitEqual(float[][] a, float[][] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) {
                return false;
            }
            for (int j = 0; j < a[i].length; j++) {
                if (Float.floatToRawIntBits(a[i][j]) != Float.floatToRawIntBits(b[i][j])) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(config, version, step);
        h = 31 * h + bitHash(weights);
        h = 31 * h + bitHash(adamMean);
        return 31 * h + bitHash(adamVariance);
    }

    private static int bitHash(float[][] arrays) {
        int h = 1;
        for (float[] a : arrays) {
            for (float v : a) {
                h = 31 * h + Float.floatToRawIntBits(v);
            }
            h = 31 * h + a.length;
        }
        return h;
    }

    @Override
    public String toString() {
        int values = 0;
        for (float[] a : weights) {
            values += a.length;
        }
        return "ModelState{version="
                + version
                + ", step="
                + step
                + ", tensors="
                + weights.length
                + ", weights="
                + values
                + ", config="
                + config
                + ", weightsHash="
                + Integer.toHexString(Arrays.deepHashCode(weights))
                + '}';
    }
}
