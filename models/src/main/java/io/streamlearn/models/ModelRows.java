package io.streamlearn.models;

import io.streamlearn.models.ModelConfig.Task;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.zip.CRC32;

/**
 * A {@link ModelState} as one record per row of its item tables plus one record of the rest, so
 * that a store of records (the trainer's keyed state) rewrites only the rows that changed: the
 * {@link OnlineLearner} reports them ({@link OnlineLearner#takeChangedRows()}), a few thousand per
 * checkpoint whatever the catalogue's size.
 *
 * <p>Row r's record holds, for every item table in layout order (the embedding table; for an untied
 * head also the output table and the bias, and the successor slots' candidates and weights), its
 * weights at r, then each optimizer array's values at r (none for the successor slots, which have
 * no optimizer arrays), and the vocabulary's entry of row r: its id, how often it was a next item,
 * and when it was last seen (the recency order, as a number). The rest holds the config, version
 * and step, the other tensors with their optimizer arrays, and the vocabulary's rows in use and
 * clock. Tasks other than NEXT_ITEM have no item tables: all of the state is in the rest. The
 * records put together ({@link #assemble}) are the state, bit-exact.
 *
 * <p>Formats, big-endian, floats as raw IEEE-754 bits:
 *
 * <pre>
 * rest: byte FORMAT_VERSION (2); the config as ModelState format 4 writes it; long version, step;
 *       byte slot count; group of the other tensors' weights; per slot, group of their arrays;
 *       byte 1 if a vocabulary, then int rowsInUse, long clock; int CRC-32 of all bytes before
 * row:  byte FORMAT_VERSION (2); per item table its row's weights; per slot, per item table with
 *       optimizer arrays, the row's values; byte 1 if the row holds an id, then int targetCount,
 *       long lastSeen, int n, n UTF-8 bytes; int CRC-32 of all bytes before
 * </pre>
 *
 * <p>Format 1 (before the successor slots) is read as format 2 whose rest holds the config as
 * ModelState format 3 wrote it: a NEXT_ITEM model comes back with 0 successor slots, so its rows
 * have the same shape in both formats.
 */
public final class ModelRows {

    /** The format of both records. */
    public static final byte FORMAT_VERSION = 2;

    /** The oldest format of either record this build reads. */
    static final byte OLDEST_READABLE_FORMAT = 1;

    private ModelRows() {}

    /**
     * Returns the rows a state of this config has records for: the item capacity for NEXT_ITEM,
     * otherwise 0.
     */
    public static int rows(ModelConfig config) {
        return config.task() == Task.NEXT_ITEM ? config.itemCapacity() : 0;
    }

    /**
     * Encodes everything of the state but its item tables' rows.
     *
     * @param state the state
     * @return the rest's record
     */
    public static byte[] encodeRest(ModelState state) {
        ModelConfig config = state.config();
        float[][] weights = state.weightsView();
        float[][][] slots = state.slotsView();
        boolean[] table = tables(config, weights.length);
        long size = 1 + ModelState.CONFIG_BYTES + 16 + 1;
        size += ModelState.groupBytes(others(weights, table));
        for (float[][] s : slots) {
            size += ModelState.groupBytes(others(s, table));
        }
        ItemVocabulary vocabulary = state.vocabularyView();
        size += 1 + (vocabulary == null ? 0 : 12) + 4;
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(size));
        buf.put(FORMAT_VERSION);
        ModelState.putConfig(buf, config);
        buf.putLong(state.version());
        buf.putLong(state.step());
        buf.put((byte) slots.length);
        ModelState.putGroup(buf, others(weights, table));
        for (float[][] s : slots) {
            ModelState.putGroup(buf, others(s, table));
        }
        buf.put((byte) (vocabulary == null ? 0 : 1));
        if (vocabulary != null) {
            buf.putInt(vocabulary.rowsInUse());
            buf.putLong(vocabulary.clock());
        }
        return sealed(buf);
    }

    /**
     * Encodes one row of the state's item tables, with its vocabulary entry.
     *
     * @param state a NEXT_ITEM state
     * @param row a row, 0 to {@link #rows} - 1
     * @return the row's record
     * @throws IllegalArgumentException if the state has no such row
     */
    public static byte[] encodeRow(ModelState state, int row) {
        ModelConfig config = state.config();
        if (row < 0 || row >= rows(config)) {
            throw new IllegalArgumentException(
                    "row " + row + " is not one of the " + rows(config) + " item rows");
        }
        ParameterLayout layout = ParameterLayout.of(config);
        int[] tables = layout.itemTables();
        float[][] weights = state.weightsView();
        float[][][] slots = state.slotsView();
        ItemVocabulary vocabulary = state.vocabularyView();
        byte[] id = vocabulary.idBytes(row);
        int values =
                rowValues(layout, tables, false) + slots.length * rowValues(layout, tables, true);
        int size = 1 + 4 * values + 1 + (id == null ? 0 : 16 + id.length) + 4;
        ByteBuffer buf = ByteBuffer.allocate(size);
        buf.put(FORMAT_VERSION);
        putRow(buf, layout, tables, weights, row, false);
        for (float[][] s : slots) {
            putRow(buf, layout, tables, s, row, true);
        }
        buf.put((byte) (id == null ? 0 : 1));
        if (id != null) {
            buf.putInt(vocabulary.count(row));
            buf.putLong(vocabulary.lastSeen(row));
            buf.putInt(id.length);
            buf.put(id);
        }
        return sealed(buf);
    }

    /**
     * Returns the rows whose records differ between two states: for two versions of one learner,
     * the rows the steps between them changed, found by comparing them (for copies whose steps
     * nobody counted, as the serving versions).
     *
     * @param before the state whose records are kept, or null for none
     * @param after the state the records should become
     * @return the rows of {@code after} to write again: all of them if {@code before} is null or of
     *     another config or optimizer slot count
     */
    public static BitSet differingRows(ModelState before, ModelState after) {
        int rows = rows(after.config());
        BitSet differ = new BitSet(rows);
        if (before == null
                || !before.config().equals(after.config())
                || before.slotCount() != after.slotCount()) {
            differ.set(0, rows);
            return differ;
        }
        ParameterLayout layout = ParameterLayout.of(after.config());
        int[] tables = layout.itemTables();
        ItemVocabulary a = before.vocabularyView();
        ItemVocabulary b = after.vocabularyView();
        for (int row = 0; row < rows; row++) {
            boolean same =
                    sameRow(layout, tables, before.weightsView(), after.weightsView(), row, false)
                            && Arrays.equals(a.idBytes(row), b.idBytes(row))
                            && a.count(row) == b.count(row)
                            && a.lastSeen(row) == b.lastSeen(row);
            for (int s = 0; same && s < after.slotCount(); s++) {
                same =
                        sameRow(
                                layout,
                                tables,
                                before.slotsView()[s],
                                after.slotsView()[s],
                                row,
                                true);
            }
            if (!same) {
                differ.set(row);
            }
        }
        return differ;
    }

    private static boolean sameRow(
            ParameterLayout layout, int[] tables, float[][] a, float[][] b, int row, boolean slot) {
        for (int t : tables) {
            int h = rowLength(layout, t, slot);
            for (int j = row * h; j < (row + 1) * h; j++) {
                if (Float.floatToRawIntBits(a[t][j]) != Float.floatToRawIntBits(b[t][j])) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Starts putting a state back together from its rest.
     *
     * @param rest what {@link #encodeRest} wrote
     * @return the assembly, to which every row's record is then {@link Assembly#put}
     * @throws IllegalArgumentException if the bytes are of another format, corrupt or truncated
     */
    public static Assembly assemble(byte[] rest) {
        ByteBuffer buf = open(rest, "rest");
        try {
            // Format 1's rest holds the config as ModelState format 3 wrote it.
            byte configFormat = rest[0] == 1 ? 3 : ModelState.FORMAT_VERSION;
            ModelConfig config = ModelState.getConfig(buf, configFormat);
            long version = buf.getLong();
            long step = buf.getLong();
            int slotCount = buf.get();
            if (slotCount != 0 && slotCount != OptimizerStep.slots(config.optimizer())) {
                throw new IllegalArgumentException(
                        "ModelRows rest is corrupt: "
                                + slotCount
                                + " optimizer slots for "
                                + config.optimizer());
            }
            ParameterLayout layout = ParameterLayout.of(config);
            boolean[] table = tables(config, layout.size());
            float[][] weights = layout.zeros();
            fill(weights, ModelState.getGroup(buf, "weights"), table);
            float[][][] slots = new float[slotCount][][];
            for (int s = 0; s < slotCount; s++) {
                slots[s] = layout.slotZeros();
                fill(slots[s], ModelState.getGroup(buf, "optimizer slot " + s), table);
            }
            byte hasVocabulary = buf.get();
            if (hasVocabulary != (config.task() == Task.NEXT_ITEM ? 1 : 0)) {
                throw new IllegalArgumentException(
                        "ModelRows rest is corrupt: vocabulary flag " + hasVocabulary);
            }
            int rowsInUse = hasVocabulary == 1 ? buf.getInt() : 0;
            long clock = hasVocabulary == 1 ? buf.getLong() : 0;
            return new Assembly(config, version, step, layout, weights, slots, rowsInUse, clock);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    "ModelRows rest is truncated: " + rest.length + " bytes", e);
        }
    }

    /** A state being put back together: its rest read, its rows put one by one. */
    public static final class Assembly {
        private final ModelConfig config;
        private final long version;
        private final long step;
        private final ParameterLayout layout;
        private final int[] tables;
        private final float[][] weights;
        private final float[][][] slots;
        private final int rowsInUse;
        private final long clock;
        private final BitSet present = new BitSet();
        private final byte[][] ids;
        private final int[] counts;
        private final long[] lastSeen;

        private Assembly(
                ModelConfig config,
                long version,
                long step,
                ParameterLayout layout,
                float[][] weights,
                float[][][] slots,
                int rowsInUse,
                long clock) {
            this.config = config;
            this.version = version;
            this.step = step;
            this.layout = layout;
            this.tables = layout.itemTables();
            this.weights = weights;
            this.slots = slots;
            this.rowsInUse = rowsInUse;
            this.clock = clock;
            int rows = rows(config);
            this.ids = new byte[rows][];
            this.counts = new int[rows];
            this.lastSeen = new long[rows];
        }

        /** Returns the config of the state. */
        public ModelConfig config() {
            return config;
        }

        /** Returns the model version of the state. */
        public long version() {
            return version;
        }

        /** Returns the optimizer step of the state. */
        public long step() {
            return step;
        }

        /**
         * Puts one row's record in place.
         *
         * @param row the row
         * @param record what {@link #encodeRow} wrote for it
         * @throws IllegalArgumentException if the row is out of range or the record corrupt, of
         *     another format or shape
         */
        public void put(int row, byte[] record) {
            if (row < 0 || row >= ids.length) {
                throw new IllegalArgumentException(
                        "item row " + row + " is not one of the " + ids.length + " rows");
            }
            ByteBuffer buf = open(record, "row " + row);
            try {
                getRow(buf, weights, row, false);
                for (float[][] s : slots) {
                    getRow(buf, s, row, true);
                }
                byte hasId = buf.get();
                if (hasId == 1) {
                    counts[row] = buf.getInt();
                    lastSeen[row] = buf.getLong();
                    int n = buf.getInt();
                    if (n < 0 || n > buf.remaining() - 4) {
                        throw new BufferUnderflowException();
                    }
                    ids[row] = new byte[n];
                    buf.get(ids[row]);
                } else if (hasId == 0) {
                    ids[row] = null;
                    counts[row] = 0;
                    lastSeen[row] = 0;
                } else {
                    throw new IllegalArgumentException(
                            "ModelRows row " + row + " is corrupt: id flag " + hasId);
                }
                if (buf.remaining() != 4) {
                    throw new IllegalArgumentException(
                            "ModelRows row "
                                    + row
                                    + " holds "
                                    + (buf.remaining() - 4)
                                    + " bytes more than its shape");
                }
            } catch (BufferUnderflowException e) {
                throw new IllegalArgumentException(
                        "ModelRows row "
                                + row
                                + " is truncated or of another shape: "
                                + record.length
                                + " bytes",
                        e);
            }
            present.set(row);
        }

        private void getRow(ByteBuffer buf, float[][] arrays, int row, boolean slot) {
            for (int t : tables) {
                int h = rowLength(layout, t, slot);
                buf.asFloatBuffer().get(arrays[t], row * h, h);
                buf.position(buf.position() + 4 * h);
            }
        }

        /**
         * Returns the state.
         *
         * @throws IllegalArgumentException naming the first row without a record, or if the
         *     vocabulary's entries do not make one
         */
        public ModelState build() {
            int missing = present.nextClearBit(0);
            if (missing < ids.length) {
                throw new IllegalArgumentException(
                        "item row "
                                + missing
                                + " of "
                                + ids.length
                                + " has no record ("
                                + present.cardinality()
                                + " rows have one)");
            }
            ItemVocabulary vocabulary =
                    config.task() == Task.NEXT_ITEM
                            ? ItemVocabulary.fromRows(
                                    config.itemCapacity(), rowsInUse, clock, ids, counts, lastSeen)
                            : null;
            return new ModelState(config, version, step, weights, slots, vocabulary);
        }
    }

    /**
     * Values per row of item table {@code t} in its weights, or in each optimizer array (none for a
     * tensor learned outside the optimizer).
     */
    private static int rowLength(ParameterLayout layout, int t, boolean slot) {
        ParameterLayout.Tensor tensor = layout.get(t);
        return slot && tensor.outsideOptimizer() ? 0 : tensor.rowLength();
    }

    private static int rowValues(ParameterLayout layout, int[] tables, boolean slot) {
        int n = 0;
        for (int t : tables) {
            n += rowLength(layout, t, slot);
        }
        return n;
    }

    private static void putRow(
            ByteBuffer buf,
            ParameterLayout layout,
            int[] tables,
            float[][] arrays,
            int row,
            boolean slot) {
        for (int t : tables) {
            int h = rowLength(layout, t, slot);
            buf.asFloatBuffer().put(arrays[t], row * h, h);
            buf.position(buf.position() + 4 * h);
        }
    }

    /** Which tensors are item tables (kept by row); none unless NEXT_ITEM. */
    private static boolean[] tables(ModelConfig config, int tensors) {
        boolean[] table = new boolean[tensors];
        if (config.task() == Task.NEXT_ITEM) {
            for (int t : ParameterLayout.of(config).itemTables()) {
                table[t] = true;
            }
        }
        return table;
    }

    /** The arrays of the tensors that are not item tables, in layout order (shared, not copied). */
    private static float[][] others(float[][] arrays, boolean[] table) {
        float[][] out = new float[arrays.length][];
        int n = 0;
        for (int i = 0; i < arrays.length; i++) {
            if (!table[i]) {
                out[n++] = arrays[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Puts the other tensors' arrays back in their places. */
    private static void fill(float[][] arrays, float[][] others, boolean[] table) {
        int n = 0;
        for (int i = 0; i < arrays.length; i++) {
            if (!table[i]) {
                if (n >= others.length || others[n].length != arrays[i].length) {
                    throw new IllegalArgumentException(
                            "ModelRows rest is corrupt: tensor "
                                    + i
                                    + " does not have the config's shape");
                }
                arrays[i] = others[n++];
            }
        }
        if (n != others.length) {
            throw new IllegalArgumentException(
                    "ModelRows rest is corrupt: " + others.length + " tensors for " + n);
        }
    }

    private static byte[] sealed(ByteBuffer buf) {
        CRC32 crc = new CRC32();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        if (buf.hasRemaining()) {
            throw new IllegalStateException(buf.remaining() + " bytes left unwritten");
        }
        return buf.array();
    }

    /** Checks the format and the CRC-32 in the last 4 bytes; returns a buffer after the format. */
    private static ByteBuffer open(byte[] bytes, String what) {
        ByteBuffer buf =
                Codecs.open(bytes, "ModelRows " + what, OLDEST_READABLE_FORMAT, FORMAT_VERSION);
        if (bytes.length < 5) {
            throw new IllegalArgumentException(
                    "ModelRows " + what + " is truncated: " + bytes.length + " bytes");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        if (ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt() != (int) crc.getValue()) {
            throw new IllegalArgumentException(
                    "ModelRows "
                            + what
                            + " is corrupt: CRC-32 mismatch over "
                            + bytes.length
                            + " bytes");
        }
        return buf;
    }
}
