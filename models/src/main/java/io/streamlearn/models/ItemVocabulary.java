package io.streamlearn.models;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

/**
 * Maps item ids, as they arrive online, to rows of the item embedding table: a bounded table, so
 * that the least recently seen item gives its row to a new one when all rows are taken.
 *
 * <p>Row 0 is reserved: it pads short histories and stands for every unknown item at inference.
 * Rows 1 to {@code capacity - 1} are handed out in order, then reused by evicting the least
 * recently seen id (one not in the batch being admitted). A reused row gets fresh weights and zero
 * optimizer moments from the learner, so an evicted item's meaning does not leak into the new one.
 * Ids are strings; numeric ids are their decimal strings.
 *
 * <p>Each row also counts how often its id was the next item of a training example (reset when the
 * row changes hands). The counts are the popularity proposal of the sampled softmax: {@link
 * #proposal()} draws row r with probability (count(r) + 1) / sum over rows in use, from a Fenwick
 * tree (O(log rows) per draw and per count), built on first use and then kept up to date.
 *
 * <p>Sightings are numbered (a clock, and per row the number of its id's last sighting), so that
 * the recency order can be rebuilt from the rows alone ({@link ModelRows}); equality compares the
 * order, not the numbers, which restart at 1 in a vocabulary decoded from a whole {@link
 * ModelState}.
 *
 * <p>The learner's vocabulary is authoritative and changes only in {@link Admission#commit()},
 * which the learner calls only for a step it takes: a skipped step leaves the vocabulary alone.
 * Inference reads a {@link ModelState}'s copy and never changes it. Not thread-safe.
 */
public final class ItemVocabulary {

    private final int capacity;

    /** Id to row, least recently seen first (insertion order, re-inserted on every sighting). */
    private final LinkedHashMap<String, Integer> rows = new LinkedHashMap<>();

    private final String[] ids;

    /**
     * Each id's UTF-8 bytes by row, made once when the id gets its row: every encoding of the state
     * (each checkpoint, broadcast and snapshot) writes them, and encoding them anew each time
     * (twice: to size, then to write) was an eighth of the trainer's Java time at 100,000 rows.
     */
    private final byte[][] utf8;

    /** The sum of {@link #utf8}'s lengths over the rows in use. */
    private long utf8Bytes;

    private final int[] counts;

    /**
     * When each row's id was last seen, on {@link #clock}: the recency order as a number per row,
     * so that a vocabulary kept one row per record ({@link ModelRows}) can be put back in order.
     */
    private final long[] lastSeen;

    /** Counts sightings; the newest sighting's row holds its value. */
    private long clock;

    private int nextFree = 1;

    /** The proposal's Fenwick tree over (count + 1) of rows in use, or null until first needed. */
    private long[] tree;

    /**
     * Creates an empty vocabulary.
     *
     * @param capacity rows of the table, row 0 included; at least 2
     */
    public ItemVocabulary(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("capacity must be at least 2 but was " + capacity);
        }
        this.capacity = capacity;
        this.ids = new String[capacity];
        this.utf8 = new byte[capacity][];
        this.counts = new int[capacity];
        this.lastSeen = new long[capacity];
    }

    /** Returns the rows of the table, row 0 included. */
    public int capacity() {
        return capacity;
    }

    /** Returns how many ids have a row. */
    public int size() {
        return rows.size();
    }

    /** Returns one more than the highest row ever handed out: rows below it are all in use. */
    int rowsInUse() {
        return nextFree;
    }

    /**
     * Returns an id's row without counting it as seen.
     *
     * @param id an item id
     * @return its row, or 0 if the id has none
     */
    public int rowOf(String id) {
        Integer row = id == null ? null : rows.get(id);
        return row == null ? 0 : row;
    }

    /**
     * Returns the id holding a row.
     *
     * @param row a row
     * @return the id, or null for row 0, a free row, or a row out of range
     */
    public String idOf(int row) {
        return row > 0 && row < capacity ? ids[row] : null;
    }

    /** Returns the ids, least recently seen first. */
    public List<String> idsByRecency() {
        return new ArrayList<>(rows.keySet());
    }

    /**
     * Plans the admission of a batch's ids without changing anything: known ids keep their rows,
     * unknown ones get free rows, then rows of the least recently seen ids not in the batch. Ids
     * for which no row can be found (more new ids in one batch than the table holds) map to row 0.
     *
     * @param sighted the batch's ids in the order they were seen (nulls are ignored)
     * @return the plan; {@link Admission#commit()} applies it
     */
    Admission plan(List<String> sighted) {
        return plan(sighted, List.of());
    }

    /**
     * Plans an admission as {@link #plan(List)}, and counts the targets (the examples' next items)
     * at the commit, for the popularity proposal.
     *
     * @param sighted the batch's ids in the order they were seen (nulls are ignored)
     * @param targets the ids that were next items; each should also be among {@code sighted}
     * @return the plan
     */
    Admission plan(List<String> sighted, List<String> targets) {
        Set<String> inBatch = new HashSet<>();
        for (String id : sighted) {
            if (id != null) {
                inBatch.add(id);
            }
        }
        Map<String, Integer> assigned = new LinkedHashMap<>();
        List<String> evicted = new ArrayList<>();
        Iterator<Map.Entry<String, Integer>> oldest = rows.entrySet().iterator();
        int free = nextFree;
        for (String id : sighted) {
            if (id == null || rows.containsKey(id) || assigned.containsKey(id)) {
                continue;
            }
            int row = 0;
            if (free < capacity) {
                row = free++;
            } else {
                while (oldest.hasNext()) {
                    Map.Entry<String, Integer> e = oldest.next();
                    if (!inBatch.contains(e.getKey())) {
                        evicted.add(e.getKey());
                        row = e.getValue();
                        break;
                    }
                }
            }
            assigned.put(id, row);
        }
        return new Admission(sighted, targets, assigned, evicted, free);
    }

    /** A planned admission: the rows the batch's ids will have, and the rows that turn over. */
    final class Admission {
        private final List<String> sighted;
        private final List<String> targets;
        private final Map<String, Integer> assigned;
        private final List<String> evicted;
        private final int nextFreeAfter;

        private Admission(
                List<String> sighted,
                List<String> targets,
                Map<String, Integer> assigned,
                List<String> evicted,
                int nextFreeAfter) {
            this.sighted = sighted;
            this.targets = targets;
            this.assigned = assigned;
            this.evicted = evicted;
            this.nextFreeAfter = nextFreeAfter;
        }

        /** Returns the row an id will have (0 if it gets none). */
        int rowOf(String id) {
            if (id == null) {
                return 0;
            }
            Integer row = assigned.get(id);
            return row != null ? row : ItemVocabulary.this.rowOf(id);
        }

        /** Returns the rows handed to new ids (each gets fresh weights), in assignment order. */
        int[] freshRows() {
            return assigned.values().stream()
                    .mapToInt(Integer::intValue)
                    .filter(r -> r > 0)
                    .toArray();
        }

        /** Returns {@link ItemVocabulary#rowsInUse()} as it will be after the commit. */
        int rowsInUseAfter() {
            return nextFreeAfter;
        }

        /**
         * Applies the plan: evicts, assigns (a row that changes hands starts its count at 0),
         * counts the targets, and marks every sighted id as just seen.
         */
        void commit() {
            for (String id : evicted) {
                int row = rows.remove(id);
                ids[row] = null;
                utf8Bytes -= utf8[row].length;
                utf8[row] = null;
            }
            for (int row = nextFree; row < nextFreeAfter; row++) {
                addWeight(row, 1);
            }
            for (Map.Entry<String, Integer> e : assigned.entrySet()) {
                int row = e.getValue();
                if (row > 0) {
                    rows.put(e.getKey(), row);
                    ids[row] = e.getKey();
                    setUtf8(row, e.getKey().getBytes(StandardCharsets.UTF_8));
                    addWeight(row, -counts[row]);
                    counts[row] = 0;
                }
            }
            nextFree = nextFreeAfter;
            for (String id : targets) {
                Integer row = id == null ? null : rows.get(id);
                if (row != null && counts[row] < Integer.MAX_VALUE) {
                    counts[row]++;
                    addWeight(row, 1);
                }
            }
            for (String id : sighted) {
                Integer row = id == null ? null : rows.remove(id);
                if (row != null) {
                    rows.put(id, row);
                    lastSeen[row] = ++clock;
                }
            }
        }
    }

    /** Returns how often the id holding a row was a next item since it got the row. */
    int count(int row) {
        return counts[row];
    }

    private void addWeight(int row, long delta) {
        if (tree == null || delta == 0) {
            return;
        }
        for (int i = row + 1; i <= capacity; i += i & -i) {
            tree[i] += delta;
        }
    }

    /**
     * Returns the popularity proposal over the rows in use: row r with probability (count(r) + 1) /
     * total. The view follows later commits.
     */
    Proposal proposal() {
        if (tree == null) {
            long[] t = new long[capacity + 1];
            for (int row = 1; row < nextFree; row++) {
                t[row + 1] += counts[row] + 1L;
            }
            for (int i = 1; i <= capacity; i++) {
                int parent = i + (i & -i);
                if (parent <= capacity) {
                    t[parent] += t[i];
                }
            }
            tree = t;
        }
        return new Proposal();
    }

    /** Draws rows in proportion to (count + 1); see {@link #proposal()}. */
    final class Proposal {
        private Proposal() {}

        /** Returns whether no row is in use (nothing to draw). */
        boolean isEmpty() {
            return nextFree <= 1;
        }

        /** Returns the sum of the weights of the rows in use. */
        long total() {
            long sum = 0;
            for (int i = capacity; i > 0; i -= i & -i) {
                sum += tree[i];
            }
            return sum;
        }

        /** Returns the probability of drawing a row. */
        double probability(int row) {
            long weight = row >= 1 && row < nextFree ? counts[row] + 1L : 1L;
            return (double) weight / total();
        }

        /** Draws one row in use; the proposal must not be empty. */
        int draw(Random random) {
            long target = (long) (random.nextDouble() * total());
            int at = 0;
            for (int step = Integer.highestOneBit(capacity); step > 0; step >>= 1) {
                int next = at + step;
                if (next <= capacity && tree[next] <= target) {
                    at = next;
                    target -= tree[next];
                }
            }
            // tree index at + 1 holds the drawn row, i.e. row = at.
            return Math.max(1, Math.min(at, nextFree - 1));
        }
    }

    /** Returns an independent copy. */
    ItemVocabulary copy() {
        ItemVocabulary c = new ItemVocabulary(capacity);
        c.rows.putAll(rows);
        System.arraycopy(ids, 0, c.ids, 0, capacity);
        System.arraycopy(utf8, 0, c.utf8, 0, capacity);
        c.utf8Bytes = utf8Bytes;
        System.arraycopy(counts, 0, c.counts, 0, capacity);
        System.arraycopy(lastSeen, 0, c.lastSeen, 0, capacity);
        c.clock = clock;
        c.nextFree = nextFree;
        return c;
    }

    /** Bytes of {@link #writeTo}. */
    int encodedSize() {
        return Math.toIntExact(4 + 4 + 12L * rows.size() + utf8Bytes);
    }

    private void setUtf8(int row, byte[] bytes) {
        if (utf8[row] != null) {
            utf8Bytes -= utf8[row].length;
        }
        utf8[row] = bytes;
        utf8Bytes += bytes.length;
    }

    /**
     * Writes: int rowsInUse, int count, then per id, least recently seen first, int row, int target
     * count, int byte length and the id's UTF-8 bytes.
     */
    void writeTo(ByteBuffer buf) {
        buf.putInt(nextFree);
        buf.putInt(rows.size());
        for (Map.Entry<String, Integer> e : rows.entrySet()) {
            byte[] id = utf8[e.getValue()];
            buf.putInt(e.getValue());
            buf.putInt(counts[e.getValue()]);
            buf.putInt(id.length);
            buf.put(id);
        }
    }

    /**
     * Reads what {@link #writeTo} wrote, or with {@code withCounts} false the layout of ModelState
     * format 2, which had no target counts (they start at 0).
     *
     * @throws IllegalArgumentException if a row is out of range or taken twice, or a count negative
     * @throws BufferUnderflowException if the bytes end early
     */
    static ItemVocabulary readFrom(ByteBuffer buf, int capacity, boolean withCounts) {
        ItemVocabulary v = new ItemVocabulary(capacity);
        int inUse = buf.getInt();
        int count = buf.getInt();
        if (inUse < 1 || inUse > capacity || count < 0 || count > inUse - 1) {
            throw new IllegalArgumentException(
                    "vocabulary of "
                            + count
                            + " ids in "
                            + inUse
                            + " rows does not fit a capacity of "
                            + capacity);
        }
        v.nextFree = inUse;
        for (int i = 0; i < count; i++) {
            int row = buf.getInt();
            int targets = withCounts ? buf.getInt() : 0;
            int length = buf.getInt();
            if (row < 1 || row >= inUse || v.ids[row] != null) {
                throw new IllegalArgumentException(
                        "vocabulary entry " + i + " has row " + row + ", out of range or taken");
            }
            if (targets < 0) {
                throw new IllegalArgumentException(
                        "vocabulary entry " + i + " has a negative count " + targets);
            }
            if (length < 0 || length > buf.remaining()) {
                throw new BufferUnderflowException();
            }
            byte[] bytes = new byte[length];
            buf.get(bytes);
            String id = new String(bytes, StandardCharsets.UTF_8);
            if (v.rows.put(id, row) != null) {
                throw new IllegalArgumentException("vocabulary holds id '" + id + "' twice");
            }
            v.ids[row] = id;
            v.setUtf8(row, bytes);
            v.counts[row] = targets;
            v.lastSeen[row] = ++v.clock;
        }
        return v;
    }

    /** Returns the UTF-8 bytes of the id holding a row, or null if none does. */
    byte[] idBytes(int row) {
        return utf8[row];
    }

    /** Returns when the id holding a row was last seen (larger is later); 0 for a row without. */
    long lastSeen(int row) {
        return lastSeen[row];
    }

    /** Returns the clock of the sightings: the newest one's {@link #lastSeen}. */
    long clock() {
        return clock;
    }

    /**
     * Rebuilds a vocabulary from its rows, as {@link ModelRows} keeps them: the recency order is
     * that of the rows' {@code lastSeen}.
     *
     * @param capacity rows of the table
     * @param rowsInUse one more than the highest row handed out
     * @param clock the sightings' clock
     * @param idBytes per row, the UTF-8 bytes of its id, or null
     * @param counts per row, its target count
     * @param lastSeen per row, when its id was last seen
     * @throws IllegalArgumentException if a row with an id is out of use, an id is held twice, two
     *     rows were seen at once or later than the clock, or a count is negative
     */
    static ItemVocabulary fromRows(
            int capacity,
            int rowsInUse,
            long clock,
            byte[][] idBytes,
            int[] counts,
            long[] lastSeen) {
        if (rowsInUse < 1 || rowsInUse > capacity) {
            throw new IllegalArgumentException(
                    "vocabulary of "
                            + rowsInUse
                            + " rows in use does not fit a capacity of "
                            + capacity);
        }
        ItemVocabulary v = new ItemVocabulary(capacity);
        v.nextFree = rowsInUse;
        v.clock = clock;
        List<Integer> held = new ArrayList<>();
        for (int row = 0; row < capacity; row++) {
            if (idBytes[row] == null) {
                continue;
            }
            if (row == 0 || row >= rowsInUse) {
                throw new IllegalArgumentException(
                        "vocabulary row "
                                + row
                                + " holds an id but is out of the "
                                + rowsInUse
                                + " rows in use");
            }
            if (counts[row] < 0 || lastSeen[row] < 1 || lastSeen[row] > clock) {
                throw new IllegalArgumentException(
                        "vocabulary row "
                                + row
                                + " has count "
                                + counts[row]
                                + " and last seen "
                                + lastSeen[row]
                                + " (clock "
                                + clock
                                + ")");
            }
            held.add(row);
        }
        held.sort((a, b) -> Long.compare(lastSeen[a], lastSeen[b]));
        long previous = 0;
        for (int row : held) {
            if (lastSeen[row] == previous) {
                throw new IllegalArgumentException(
                        "vocabulary rows were last seen at the same time " + previous);
            }
            previous = lastSeen[row];
            String id = new String(idBytes[row], StandardCharsets.UTF_8);
            if (v.rows.put(id, row) != null) {
                throw new IllegalArgumentException("vocabulary holds id '" + id + "' twice");
            }
            v.ids[row] = id;
            v.setUtf8(row, idBytes[row]);
            v.counts[row] = counts[row];
            v.lastSeen[row] = lastSeen[row];
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ItemVocabulary)) {
            return false;
        }
        ItemVocabulary that = (ItemVocabulary) o;
        return capacity == that.capacity
                && nextFree == that.nextFree
                && Arrays.equals(counts, that.counts)
                && new ArrayList<>(rows.entrySet()).equals(new ArrayList<>(that.rows.entrySet()));
    }

    @Override
    public int hashCode() {
        return Objects.hash(capacity, nextFree, Arrays.hashCode(ids), Arrays.hashCode(counts));
    }

    @Override
    public String toString() {
        return "ItemVocabulary{capacity=" + capacity + ", ids=" + rows.size() + '}';
    }
}
