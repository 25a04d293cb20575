package io.streamlearn.models;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One entity's hidden state in a recurrent model (RNN, GRU, LSTM): what lets the next event cost
 * one recurrent step instead of a pass over the whole window.
 *
 * <p>It records the model version whose weights computed it and how many steps were taken since it
 * was last computed from a window, so that the caller can decide when to recompute it (the weights
 * move under it; see {@code docs/recurrent-state.md}). Immutable. Its codec, used for keyed state:
 *
 * <pre>
 * byte  FORMAT_VERSION (1)
 * long  modelVersion
 * int   stepsSinceRecompute, layers, hiddenSize
 * byte  1 if a cell state follows (LSTM), else 0
 * float hidden[layers * hiddenSize], then cell[layers * hiddenSize] if present
 * </pre>
 */
public final class RecurrentState {

    /** Format byte of {@link #encode()}. */
    public static final byte FORMAT_VERSION = 1;

    private final long modelVersion;
    private final int stepsSinceRecompute;
    private final int layers;
    private final int hiddenSize;
    private final float[] hidden;
    private final float[] cell;

    /** Takes ownership of the arrays. */
    RecurrentState(
            long modelVersion,
            int stepsSinceRecompute,
            int layers,
            int hiddenSize,
            float[] hidden,
            float[] cell) {
        if (layers < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException(
                    "layers and hiddenSize must be at least 1 but were "
                            + layers
                            + " and "
                            + hiddenSize);
        }
        int size = Math.multiplyExact(layers, hiddenSize);
        if (hidden == null || hidden.length != size || (cell != null && cell.length != size)) {
            throw new IllegalArgumentException(
                    "hidden and cell must hold layers * hiddenSize = " + size + " values");
        }
        if (stepsSinceRecompute < 0) {
            throw new IllegalArgumentException(
                    "stepsSinceRecompute must be at least 0 but was " + stepsSinceRecompute);
        }
        this.modelVersion = modelVersion;
        this.stepsSinceRecompute = stepsSinceRecompute;
        this.layers = layers;
        this.hiddenSize = hiddenSize;
        this.hidden = hidden;
        this.cell = cell;
    }

    /** Returns the version of the model whose weights computed this state. */
    public long modelVersion() {
        return modelVersion;
    }

    /** Returns the steps taken since this state was computed from a window (0 right after). */
    public int stepsSinceRecompute() {
        return stepsSinceRecompute;
    }

    /** Returns the recurrent layers. */
    public int layers() {
        return layers;
    }

    /** Returns the units per layer. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** Returns a copy of the hidden state, layer-major ({@code layers * hiddenSize}). */
    public float[] hidden() {
        return hidden.clone();
    }

    /** Returns whether a cell state is carried (LSTM). */
    public boolean hasCell() {
        return cell != null;
    }

    /** Returns a copy of the LSTM cell state, layer-major, or null. */
    public float[] cell() {
        return cell == null ? null : cell.clone();
    }

    float[] hiddenView() {
        return hidden;
    }

    float[] cellView() {
        return cell;
    }

    /**
     * Encodes this state (see the class comment).
     *
     * @return the bytes
     */
    public byte[] encode() {
        int n = hidden.length;
        ByteBuffer buf = ByteBuffer.allocate(1 + 8 + 12 + 1 + 4 * n * (cell == null ? 1 : 2));
        buf.put(FORMAT_VERSION).putLong(modelVersion);
        buf.putInt(stepsSinceRecompute).putInt(layers).putInt(hiddenSize);
        buf.put((byte) (cell == null ? 0 : 1));
        buf.asFloatBuffer().put(hidden);
        buf.position(buf.position() + 4 * n);
        if (cell != null) {
            buf.asFloatBuffer().put(cell);
        }
        return buf.array();
    }

    /**
     * Decodes bytes written by {@link #encode()}.
     *
     * @param bytes the encoded state
     * @return the state
     * @throws IllegalArgumentException if the format is unknown or the bytes are malformed
     */
    public static RecurrentState decode(byte[] bytes) {
        ByteBuffer buf = Codecs.open(bytes, "RecurrentState", FORMAT_VERSION);
        try {
            long version = buf.getLong();
            int steps = buf.getInt();
            int layers = buf.getInt();
            int hiddenSize = buf.getInt();
            byte hasCell = buf.get();
            if (layers < 1
                    || hiddenSize < 1
                    || (hasCell != 0 && hasCell != 1)
                    || (long) layers * hiddenSize * 4 * (1 + hasCell) != buf.remaining()) {
                throw new IllegalArgumentException(
                        "RecurrentState bytes are corrupt: "
                                + layers
                                + " layers of "
                                + hiddenSize
                                + " (cell "
                                + hasCell
                                + ") in "
                                + bytes.length
                                + " bytes");
            }
            float[] hidden = new float[layers * hiddenSize];
            buf.asFloatBuffer().get(hidden);
            buf.position(buf.position() + 4 * hidden.length);
            float[] cell = null;
            if (hasCell == 1) {
                cell = new float[hidden.length];
                buf.asFloatBuffer().get(cell);
            }
            return new RecurrentState(version, steps, layers, hiddenSize, hidden, cell);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "RecurrentState bytes are truncated: " + bytes.length + " bytes", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof RecurrentState)) {
            return false;
        }
        RecurrentState that = (RecurrentState) o;
        return modelVersion == that.modelVersion
                && stepsSinceRecompute == that.stepsSinceRecompute
                && layers == that.layers
                && hiddenSize == that.hiddenSize
                && Arrays.equals(hidden, that.hidden)
                && Arrays.equals(cell, that.cell);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(modelVersion) + stepsSinceRecompute)
                + Arrays.hashCode(hidden);
    }

    @Override
    public String toString() {
        return "RecurrentState{modelVersion="
                + modelVersion
                + ", stepsSinceRecompute="
                + stepsSinceRecompute
                + ", layers="
                + layers
                + ", hiddenSize="
                + hiddenSize
                + (cell == null ? "" : ", with cell")
                + '}';
    }
}
