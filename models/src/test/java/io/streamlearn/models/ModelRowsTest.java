package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ModelRowsTest {

    /**
     * The records of {@code ModelStateTest.itemsFixture(UNTIED, true)} in format 1 (before the
     * successor slots), written by that build: int count, then per record int row (-1 for the
     * rest), int length, the bytes.
     */
    private static final String V1_ITEMS = "/fixtures/model-rows-v1-items.bin";

    /** 16 rows for 30 items (rows change hands), an untied head, 4 sampled negatives. */
    private static final ModelConfig ITEMS =
            ModelConfig.builder()
                    .setTask(ModelConfig.Task.NEXT_ITEM)
                    .setFamily(ModelConfig.Family.GRU)
                    .setWindow(3)
                    .optHiddenSize(8)
                    .optItemCapacity(16)
                    .optItemOutput(ModelConfig.ItemOutput.UNTIED)
                    .optSoftmax(ModelConfig.Softmax.SAMPLED)
                    .optNegatives(4)
                    .build();

    /** A batch of 4 histories of 3 items and their next items, from 30 items. */
    private static Batch batch(Random random) {
        String[][] histories = new String[4][3];
        String[] next = new String[4];
        for (int r = 0; r < 4; r++) {
            for (int t = 0; t < 3; t++) {
                histories[r][t] = "item-" + random.nextInt(30);
            }
            next[r] = "item-" + random.nextInt(30);
        }
        return Batch.items(histories, next);
    }

    private static Map<Integer, byte[]> allRows(ModelState state) {
        Map<Integer, byte[]> rows = new HashMap<>();
        for (int row = 0; row < ModelRows.rows(state.config()); row++) {
            rows.put(row, ModelRows.encodeRow(state, row));
        }
        return rows;
    }

    private static ModelState assembled(byte[] rest, Map<Integer, byte[]> rows) {
        ModelRows.Assembly assembly = ModelRows.assemble(rest);
        rows.forEach(assembly::put);
        return assembly.build();
    }

    @Test
    void theRowsAndTheRestAreTheStateBitExact() {
        try (OnlineLearner learner = new OnlineLearner(ITEMS)) {
            Random random = new Random(1);
            for (int i = 0; i < 12; i++) {
                learner.train(batch(random));
            }
            learner.nextVersion();
            ModelState state = learner.snapshot();
            assertTrue(state.vocabulary().size() == 15, "every row but row 0 has an id");
            ModelState back = assembled(ModelRows.encodeRest(state), allRows(state));
            assertEquals(state, back, "weights, moments and the vocabulary's order");
            assertEquals(state.version(), back.version());

            // Learning goes on the same from both: the recency order came back.
            try (OnlineLearner again = OnlineLearner.restore(back)) {
                Batch next = batch(new Random(2));
                learner.train(next);
                again.train(next);
                assertEquals(learner.snapshot(), again.snapshot());
            }
        }
    }

    @Test
    void rewritingTheChangedRowsKeepsTheRecordsCurrent() {
        try (OnlineLearner learner = new OnlineLearner(ITEMS)) {
            ModelState start = learner.snapshot();
            Map<Integer, byte[]> rows = allRows(start);
            assertTrue(learner.takeChangedRows().isEmpty(), "a new learner changed nothing");
            Random random = new Random(3);
            int rewritten = 0;
            ModelState previous = start;
            for (int round = 0; round < 10; round++) {
                for (int i = 0; i < 1 + round % 3; i++) {
                    learner.train(batch(random));
                }
                BitSet changed = learner.takeChangedRows();
                ModelState now = learner.snapshot();
                for (int row = changed.nextSetBit(0); row >= 0; row = changed.nextSetBit(row + 1)) {
                    rows.put(row, ModelRows.encodeRow(now, row));
                }
                rewritten += changed.cardinality();
                BitSet differ = ModelRows.differingRows(previous, now);
                assertTrue(!differ.isEmpty(), "round " + round);
                differ.andNot(changed);
                assertTrue(differ.isEmpty(), "rows that differ but were not reported: " + differ);
                previous = now;
                assertEquals(now, assembled(ModelRows.encodeRest(now), rows), "round " + round);
            }
            assertTrue(rewritten < 10 * 16, "only the changed rows were rewritten: " + rewritten);
        }
    }

    @Test
    void aServingCopyAndAModelWithoutItemTablesGoThroughToo() {
        try (OnlineLearner learner = new OnlineLearner(ITEMS)) {
            learner.train(batch(new Random(4)));
            ModelState serving = learner.snapshot().forServing();
            assertEquals(serving, assembled(ModelRows.encodeRest(serving), allRows(serving)));
        }
        ModelConfig values = ModelConfig.builder().setWindow(4).optHiddenSize(8).build();
        try (OnlineLearner learner = new OnlineLearner(values)) {
            learner.train(new float[][] {{1, 2, 3, 4}}, new float[][] {{5}});
            ModelState state = learner.snapshot();
            assertEquals(0, ModelRows.rows(values));
            assertTrue(learner.takeChangedRows().isEmpty());
            assertEquals(state, assembled(ModelRows.encodeRest(state), Map.of()));
        }
    }

    /**
     * Format 1 stays readable: its rest holds the config as ModelState format 3 wrote it, so the
     * model comes back without successor slots, and its rows have the shape they had.
     */
    @Test
    void readsTheCommittedFormat1Records() throws IOException {
        ModelRows.Assembly assembly = null;
        Map<Integer, byte[]> rows = new HashMap<>();
        try (InputStream in = ModelRowsTest.class.getResourceAsStream(V1_ITEMS);
                DataInputStream data = new DataInputStream(in)) {
            int count = data.readInt();
            for (int i = 0; i < count; i++) {
                int row = data.readInt();
                byte[] record = new byte[data.readInt()];
                data.readFully(record);
                assertEquals(1, record[0], "format 1");
                if (row < 0) {
                    assembly = ModelRows.assemble(record);
                } else {
                    rows.put(row, record);
                }
            }
        }
        rows.forEach(assembly::put);
        ModelState state = assembly.build();
        assertEquals(ModelStateTest.itemsFixture(ModelConfig.ItemOutput.UNTIED, true, 0), state);
        assertEquals(0, state.config().successorSlots());
        // Written again, in format 2, the records put back the same state.
        assertEquals(state, assembled(ModelRows.encodeRest(state), allRows(state)));
        assertEquals(ModelRows.FORMAT_VERSION, ModelRows.encodeRest(state)[0]);
    }

    @Test
    void aMissingOrCorruptRowIsRefusedNamingTheRow() {
        try (OnlineLearner learner = new OnlineLearner(ITEMS)) {
            learner.train(batch(new Random(5)));
            ModelState state = learner.snapshot();
            Map<Integer, byte[]> rows = allRows(state);
            rows.remove(7);
            IllegalArgumentException missing =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> assembled(ModelRows.encodeRest(state), rows));
            assertTrue(missing.getMessage().contains("item row 7 of 16"), missing.getMessage());

            byte[] record = ModelRows.encodeRow(state, 3);
            record[6] ^= 1;
            ModelRows.Assembly assembly = ModelRows.assemble(ModelRows.encodeRest(state));
            IllegalArgumentException corrupt =
                    assertThrows(IllegalArgumentException.class, () -> assembly.put(3, record));
            assertTrue(corrupt.getMessage().contains("row 3"), corrupt.getMessage());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> assembly.put(16, ModelRows.encodeRow(state, 2)));
        }
    }
}
