package io.streamlearn.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which versions the model store keeps: the newest, and the serving one however old. */
class ModelStoreRetentionTest {

    @Test
    void keepsTheNewestVersionsAndDeletesEachOlderOneWithItsChunks() {
        ModelStoreRetention retention = new ModelStoreRetention(3);
        assertEquals(Map.of(), retention.written(1, 4, 1));
        assertEquals(Map.of(), retention.written(5, 4, 5));
        assertEquals(Map.of(), retention.written(9, 6, 9));
        assertEquals(Map.of(1L, 4), retention.written(13, 6, 13));
        assertEquals(Map.of(5L, 4), retention.written(17, 0, 17));
        assertEquals(List.of(9L, 13L, 17L), List.copyOf(retention.kept().keySet()));
    }

    /** Rejected candidates do not push the version the predictors serve out of the store. */
    @Test
    void keepsTheServingVersionHoweverOld() {
        ModelStoreRetention retention = new ModelStoreRetention(2);
        retention.written(1, 0, 1);
        retention.written(2, 0, 2);
        assertEquals(Map.of(1L, 0), retention.written(3, 0, 2), "2 serves, 3 was rejected");
        assertEquals(Map.of(), retention.written(4, 0, 2), "the newest two, and 2");
        assertEquals(Map.of(3L, 0), retention.written(5, 0, 2));
        assertEquals(List.of(2L, 4L, 5L), List.copyOf(retention.kept().keySet()));
        assertEquals(Map.of(2L, 0, 4L, 0), retention.written(6, 0, 6), "6 serves: 2 may go");
    }

    @Test
    void aVersionWrittenAgainIsDeletedWithTheChunksOfEitherWrite() {
        ModelStoreRetention retention = new ModelStoreRetention(1);
        retention.written(1, 5, 1);
        retention.written(1, 3, 1);
        assertEquals(Map.of(1L, 5), retention.written(2, 3, 2));
    }

    @Test
    void aRestoredRetentionGoesOnWhereItWasAndZeroKeepsAll() {
        ModelStoreRetention first = new ModelStoreRetention(2);
        first.written(1, 2, 1);
        first.written(2, 2, 2);
        ModelStoreRetention restored = new ModelStoreRetention(2);
        restored.restore(first.kept());
        assertEquals(Map.of(1L, 2), restored.written(3, 2, 3));

        ModelStoreRetention all = new ModelStoreRetention(0);
        for (long v = 1; v <= 50; v++) {
            assertEquals(Map.of(), all.written(v, 1, v));
        }
        assertThrows(IllegalArgumentException.class, () -> new ModelStoreRetention(-1));
    }
}
