package io.streamlearn.models;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.ItemOutput;
import io.streamlearn.models.ModelConfig.Optimizer;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * Everything needed to resume learning bit-exact: the config, the model version, the optimizer
 * step, the weights, the optimizer's arrays (Adam's two moments or SGD's velocity), one array per
 * tensor in {@link ParameterLayout} order, and for NEXT_ITEM the item vocabulary.
 *
 * <p>It has one binary codec, used by Flink state and by the model store alike. Format 4, all
 * numbers big-endian, floats as their raw IEEE-754 bits:
 *
 * <pre>
 * byte   FORMAT_VERSION (4)
 * byte   task, family                       enum ordinals (append-only enums)
 * int    window, features, hiddenSize, layers
 * float  dropout
 * int    heads, itemCapacity
 * byte   softmax
 * int    negatives
 * byte   itemOutput                         (format 3)
 * int    itemSuccessors                     (format 4)
 * float  successorLearningRate              (format 4)
 * byte   optimizer
 * float  learningRate, momentum, beta1, beta2, epsilon, weightDecay
 * int    warmupSteps
 * float  gradientClip
 * long   seed, version, step
 * group  weights                 group = int count; count x { int length; length x float }
 * byte   slot count; that many groups (Adam: first then second moments; SGD: velocity; the
 *        arrays of tensors learned outside the optimizer, the successor slots, are empty);
 *        0 in a serving copy ({@link #forServing()})
 * byte   1 if a vocabulary follows, else 0
 *        int rowsInUse, int ids; per id, least recently seen first: int row, int targetCount
 *        (format 3), int n, n UTF-8 bytes
 * int    CRC-32 of every byte before it
 * </pre>
 *
 * <p>Format 3 (before the successor slots) is read as format 4 without {@code itemSuccessors} and
 * {@code successorLearningRate}: a NEXT_ITEM model comes back with 0 slots (its layout has no
 * successor tensors) and resumes as it was, bit-exact; the rate keeps its default, unused. Format 2
 * (before the untied item output) is read as format 3 without the {@code itemOutput} byte, which
 * means TIED for NEXT_ITEM (other tasks have no item head), and without target counts, which start
 * at 0: a restored format-2 model keeps its tied head and resumes bit-exact. Format 1 (the LSTM
 * point forecaster of the first release) is recognised and refused with a message saying why. A
 * serving copy ({@link #forServing()}) keeps the weights without the optimizer's arrays (a third of
 * Adam's state): what predictors and the trainer's promotion guard hold, and what the trainer
 * broadcasts. Shapes are not stored: they follow from the config. Equality is bit-exact on every
 * array. Immutable; accessors return copies.
 */
public final class ModelState {

    /** The codec version written by {@link #encode()}. */
    public static final byte FORMAT_VERSION = 4;

    /** The oldest codec version {@link #decode} reads. */
    static final byte OLDEST_READABLE_FORMAT = 2;

    private static final int CHECKSUM_BYTES = 4;

    private final ModelConfig config;
    private final long version;
    private final long step;
    private final float[][] weights;
    private final float[][][] slots;
    private final ItemVocabulary vocabulary;

    /** Takes ownership of the arrays and the vocabulary: callers pass copies nobody else holds. */
    ModelState(
            ModelConfig config,
            long version,
            long step,
            float[][] weights,
            float[][][] slots,
            ItemVocabulary vocabulary) {
        this.config = Objects.requireNonNull(config, "config");
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0 but was " + version);
        }
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0 but was " + step);
        }
        ParameterLayout layout = ParameterLayout.of(config);
        layout.check("weights", weights);
        int expectedSlots = OptimizerStep.slots(config.optimizer());
        if (slots == null || (slots.length != expectedSlots && slots.length != 0)) {
            throw new IllegalArgumentException(
                    config.optimizer()
                            + " keeps "
                            + expectedSlots
                            + " optimizer arrays per tensor but the state held "
                            + (slots == null ? "none" : slots.length));
        }
        for (int s = 0; s < slots.length; s++) {
            layout.checkSlot("optimizer slot " + s, slots[s]);
        }
        boolean items = config.task() == Task.NEXT_ITEM;
        if (items != (vocabulary != null)) {
            throw new IllegalArgumentException(
                    items
                            ? "a NEXT_ITEM state needs a vocabulary"
                            : "only a NEXT_ITEM state has a vocabulary");
        }
        if (vocabulary != null && vocabulary.capacity() != config.itemCapacity()) {
            throw new IllegalArgumentException(
                    "vocabulary capacity "
                            + vocabulary.capacity()
                            + " differs from itemCapacity "
                            + config.itemCapacity());
        }
        this.version = version;
        this.step = step;
        this.weights = weights;
        this.slots = slots;
        this.vocabulary = vocabulary;
    }

    /** Returns the config of the model. */
    public ModelConfig config() {
        return config;
    }

    /** Returns the model version: how many times the learner published a model. */
    public long version() {
        return version;
    }

    /** Returns the number of optimizer steps taken (skipped steps not counted). */
    public long step() {
        return step;
    }

    /** Returns a copy of the weights, one array per tensor. */
    public float[][] weights() {
        return deepCopy(weights);
    }

    /** Returns the number of optimizer arrays per tensor (Adam 2, SGD with momentum 1). */
    public int slotCount() {
        return slots.length;
    }

    /**
     * Returns a copy of one optimizer array per tensor, shaped like {@link #weights()}.
     *
     * @param slot 0 or 1 for Adam's first and second moments, 0 for SGD's velocity
     */
    public float[][] slot(int slot) {
        return deepCopy(slots[slot]);
    }

    /** Returns a copy of the item vocabulary (NEXT_ITEM), or null. */
    public ItemVocabulary vocabulary() {
        return vocabulary == null ? null : vocabulary.copy();
    }

    /** Returns the total number of weights. */
    public long parameterCount() {
        long n = 0;
        for (float[] w : weights) {
            n += w.length;
        }
        return n;
    }

    /**
     * Whether every weight is finite (no NaN, no infinity). Reads the arrays in place: a check on
     * every published version must not copy the whole model first.
     */
    public boolean weightsFinite() {
        for (float[] tensor : weights) {
            for (float w : tensor) {
                if (!Float.isFinite(w)) {
                    return false;
                }
            }
        }
        return true;
    }

    float[][] weightsView() {
        return weights;
    }

    float[][][] slotsView() {
        return slots;
    }

    ItemVocabulary vocabularyView() {
        return vocabulary;
    }

    /**
     * The weights without the optimizer's arrays: enough to serve and to evaluate, not to resume
     * learning ({@link OnlineLearner#restore} refuses it). Arrays are shared, as both are
     * immutable.
     */
    public ModelState forServing() {
        return slots.length == 0
                ? this
                : new ModelState(config, version, step, weights, new float[0][][], vocabulary);
    }

    /** Whether this state holds the optimizer's arrays (false for a {@link #forServing()} copy). */
    public boolean resumable() {
        return slots.length == OptimizerStep.slots(config.optimizer());
    }

    /**
     * Returns this state with another version number; arrays are shared, as both are immutable.
     *
     * @param version the new version, at least 0
     * @return the new state
     */
    public ModelState withVersion(long version) {
        return new ModelState(config, version, step, weights, slots, vocabulary);
    }

    /**
     * Encodes this state in format {@link #FORMAT_VERSION}.
     *
     * @return the bytes
     */
    public byte[] encode() {
        long size = 1 + CONFIG_BYTES + 16;
        size += groupBytes(weights) + 1;
        for (float[][] s : slots) {
            size += groupBytes(s);
        }
        size += 1 + (vocabulary == null ? 0 : vocabulary.encodedSize()) + CHECKSUM_BYTES;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(
                    "ModelState of " + size + " bytes does not fit one byte array");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.BIG_ENDIAN);
        buf.put(FORMAT_VERSION);
        putConfig(buf, config);
        buf.putLong(version);
        buf.putLong(step);
        putGroup(buf, weights);
        buf.put((byte) slots.length);
        for (float[][] s : slots) {
            putGroup(buf, s);
        }
        buf.put((byte) (vocabulary == null ? 0 : 1));
        if (vocabulary != null) {
            vocabulary.writeTo(buf);
        }
        CRC32 crc = new CRC32();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        return buf.array();
    }

    /** Bytes of {@link #putConfig}. */
    static final int CONFIG_BYTES = 85;

    /** Writes the config as format {@link #FORMAT_VERSION} does, from task to seed. */
    static void putConfig(ByteBuffer buf, ModelConfig config) {
        buf.put((byte) config.task().ordinal());
        buf.put((byte) config.family().ordinal());
        buf.putInt(config.window());
        buf.putInt(config.features());
        buf.putInt(config.hiddenSize());
        buf.putInt(config.layers());
        buf.putFloat(config.dropout());
        buf.putInt(config.heads());
        buf.putInt(config.itemCapacity());
        buf.put((byte) config.softmax().ordinal());
        buf.putInt(config.negatives());
        buf.put((byte) config.itemOutput().ordinal());
        buf.putInt(config.itemSuccessors());
        buf.putFloat(config.successorLearningRate());
        buf.put((byte) config.optimizer().ordinal());
        buf.putFloat(config.learningRate());
        buf.putFloat(config.momentum());
        buf.putFloat(config.beta1());
        buf.putFloat(config.beta2());
        buf.putFloat(config.epsilon());
        buf.putFloat(config.weightDecay());
        buf.putInt(config.warmupSteps());
        buf.putFloat(config.gradientClip());
        buf.putLong(config.seed());
    }

    /**
     * Decodes bytes written by {@link #encode()}.
     *
     * @param bytes the encoded state
     * @return the state
     * @throws IllegalArgumentException if the format version is unknown or format 1, or the bytes
     *     are truncated, corrupt or describe an invalid state
     */
    public static ModelState decode(byte[] bytes) {
        if (bytes != null && bytes.length > 0 && bytes[0] == 1) {
            throw new IllegalArgumentException(
                    "ModelState format 1 is the LSTM point forecaster of streamlearn 0.1, which"
                            + " read windows normalised per window and had no variance head;"
                            + " format 2 models read values normalised per series. Its weights"
                            + " cannot be carried over: start the job without that state (a fresh"
                            + " model learns from the stream), or warm-start from a format-2 or"
                            + " later snapshot");
        }
        ByteBuffer buf = Codecs.open(bytes, "ModelState", OLDEST_READABLE_FORMAT, FORMAT_VERSION);
        byte format = bytes[0];
        try {
            ModelConfig config = getConfig(buf, format);
            long version = buf.getLong();
            long step = buf.getLong();
            float[][] weights = getGroup(buf, "weights");
            int slotCount = buf.get();
            if (slotCount < 0 || slotCount > 2) {
                throw new IllegalArgumentException(
                        "ModelState bytes are corrupt: " + slotCount + " optimizer slots");
            }
            float[][][] slots = new float[slotCount][][];
            for (int s = 0; s < slotCount; s++) {
                slots[s] = getGroup(buf, "optimizer slot " + s);
            }
            ItemVocabulary vocabulary = null;
            byte hasVocabulary = buf.get();
            if (hasVocabulary == 1) {
                vocabulary = ItemVocabulary.readFrom(buf, config.itemCapacity(), format >= 3);
            } else if (hasVocabulary != 0) {
                throw new IllegalArgumentException(
                        "ModelState bytes are corrupt: vocabulary flag " + hasVocabulary);
            }
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
            return new ModelState(config, version, step, weights, slots, vocabulary);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "ModelState bytes are truncated: "
                            + bytes.length
                            + " bytes end before the state does",
                    e);
        }
    }

    /**
     * Reads what {@link #putConfig} wrote, format 3's config (no successor slots: a NEXT_ITEM model
     * reads with 0) or format 2's (no {@code itemOutput} either).
     *
     * @throws IllegalArgumentException if an enum ordinal is unknown or the config invalid
     * @throws BufferUnderflowException if the bytes end early
     */
    static ModelConfig getConfig(ByteBuffer buf, byte format) {
        ModelConfig.Builder b = ModelConfig.builder();
        Task task = constant(Task.class, "task", buf.get());
        b.setTask(task);
        b.setFamily(constant(Family.class, "family", buf.get()));
        b.setWindow(buf.getInt());
        b.optFeatures(buf.getInt());
        b.optHiddenSize(buf.getInt());
        b.optLayers(buf.getInt());
        b.optDropout(buf.getFloat());
        b.optHeads(buf.getInt());
        b.optItemCapacity(buf.getInt());
        b.optSoftmax(constant(Softmax.class, "softmax", buf.get()));
        b.optNegatives(buf.getInt());
        if (format >= 3) {
            b.optItemOutput(constant(ItemOutput.class, "itemOutput", buf.get()));
        } else if (task == Task.NEXT_ITEM) {
            b.optItemOutput(ItemOutput.TIED);
        }
        if (format >= 4) {
            b.optItemSuccessors(buf.getInt());
            b.optSuccessorLearningRate(buf.getFloat());
        } else if (task == Task.NEXT_ITEM) {
            b.optItemSuccessors(0);
        }
        b.optOptimizer(constant(Optimizer.class, "optimizer", buf.get()));
        b.optLearningRate(buf.getFloat());
        b.optMomentum(buf.getFloat());
        b.optBeta1(buf.getFloat());
        b.optBeta2(buf.getFloat());
        b.optEpsilon(buf.getFloat());
        b.optWeightDecay(buf.getFloat());
        b.optWarmupSteps(buf.getInt());
        b.optGradientClip(buf.getFloat());
        b.optSeed(buf.getLong());
        return b.build();
    }

    private static <E extends Enum<E>> E constant(Class<E> type, String field, byte ordinal) {
        E[] values = type.getEnumConstants();
        if (ordinal < 0 || ordinal >= values.length) {
            throw new IllegalArgumentException(
                    "ModelState bytes are corrupt or newer than this build: "
                            + field
                            + " "
                            + ordinal
                            + " is unknown");
        }
        return values[ordinal];
    }

    static long groupBytes(float[][] arrays) {
        long n = 4;
        for (float[] a : arrays) {
            n += 4 + 4L * a.length;
        }
        return n;
    }

    static void putGroup(ByteBuffer buf, float[][] arrays) {
        buf.putInt(arrays.length);
        for (float[] a : arrays) {
            buf.putInt(a.length);
            buf.asFloatBuffer().put(a);
            buf.position(buf.position() + 4 * a.length);
        }
    }

    static float[][] getGroup(ByteBuffer buf, String what) {
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
            buf.asFloatBuffer().get(a);
            buf.position(buf.position() + 4 * length);
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

    static float[][][] deepCopy(float[][][] groups) {
        float[][][] copy = new float[groups.length][][];
        for (int i = 0; i < groups.length; i++) {
            copy[i] = deepCopy(groups[i]);
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
        if (version != that.version
                || step != that.step
                || !config.equals(that.config)
                || !bitEqual(weights, that.weights)
                || slots.length != that.slots.length
                || !Objects.equals(vocabulary, that.vocabulary)) {
            return false;
        }
        for (int s = 0; s < slots.length; s++) {
            if (!bitEqual(slots[s], that.slots[s])) {
                return false;
            }
        }
        return true;
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
        int h = Objects.hash(config, version, step, vocabulary);
        h = 31 * h + bitHash(weights);
        for (float[][] s : slots) {
            h = 31 * h + bitHash(s);
        }
        return h;
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
        return "ModelState{version="
                + version
                + ", step="
                + step
                + ", tensors="
                + weights.length
                + ", weights="
                + parameterCount()
                + (vocabulary == null ? "" : ", items=" + vocabulary.size())
                + ", config="
                + config
                + ", weightsHash="
                + Integer.toHexString(Arrays.deepHashCode(weights))
                + '}';
    }
}
