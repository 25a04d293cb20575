package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ItemVocabularyTest {

    @Test
    void handsOutRowsInOrderAndRow0IsUnknown() {
        ItemVocabulary v = new ItemVocabulary(4);
        ItemVocabulary.Admission a = v.plan(List.of("x", "y", "x"));
        assertEquals(1, a.rowOf("x"));
        assertEquals(2, a.rowOf("y"));
        assertArrayEquals(new int[] {1, 2}, a.freshRows());
        assertEquals(0, v.rowOf("x"), "a plan changes nothing");
        a.commit();
        assertEquals(1, v.rowOf("x"));
        assertEquals(0, v.rowOf("never"));
        assertEquals("y", v.idOf(2));
        assertNull(v.idOf(0));
        assertNull(v.idOf(3));
        assertEquals(List.of("y", "x"), v.idsByRecency());
    }

    @Test
    void evictsTheLeastRecentlySeenButNeverAnIdOfTheBatch() {
        ItemVocabulary v = new ItemVocabulary(4);
        v.plan(List.of("a", "b", "c")).commit();
        v.plan(List.of("a")).commit();
        // b is least recently seen, but it is in the batch; c is next.
        ItemVocabulary.Admission a = v.plan(List.of("b", "d"));
        assertEquals(3, a.rowOf("d"));
        assertArrayEquals(new int[] {3}, a.freshRows());
        a.commit();
        assertEquals(0, v.rowOf("c"));
        assertNull(v.idOf(0));
        assertEquals("d", v.idOf(3));
        assertEquals(List.of("a", "b", "d"), v.idsByRecency());
    }

    @Test
    void moreNewIdsThanRowsMapToRow0() {
        ItemVocabulary v = new ItemVocabulary(3);
        ItemVocabulary.Admission a = v.plan(List.of("a", "b", "c"));
        assertEquals(1, a.rowOf("a"));
        assertEquals(2, a.rowOf("b"));
        assertEquals(0, a.rowOf("c"));
        a.commit();
        assertEquals(2, v.size());
    }

    @Test
    void codecKeepsRowsAndRecency() {
        ItemVocabulary v = new ItemVocabulary(6);
        v.plan(List.of("α", "b", "c")).commit();
        v.plan(List.of("α")).commit();
        ByteBuffer buf = ByteBuffer.allocate(v.encodedSize());
        v.writeTo(buf);
        buf.flip();
        ItemVocabulary copy = ItemVocabulary.readFrom(buf, 6, true);
        assertEquals(v, copy);
        assertEquals(List.of("b", "c", "α"), copy.idsByRecency());
        assertEquals(1, copy.rowOf("α"));
        copy.plan(List.of("d")).commit();
        assertEquals(4, copy.rowOf("d"), "the next free row survives");
    }

    @Test
    void encodedSizeIsExactAfterEvictionsCopiesAndDecoding() {
        ItemVocabulary v = new ItemVocabulary(4);
        v.plan(List.of("ä", "b", "日本")).commit();
        // "ä" and "b" give their rows to longer and shorter ids.
        v.plan(List.of("日本", "ζζζ", "c")).commit();
        assertEquals(List.of("日本", "ζζζ", "c"), v.idsByRecency());
        ItemVocabulary copy = v.copy();
        copy.plan(List.of("€")).commit();
        for (ItemVocabulary x : List.of(v, copy, roundTrip(v), roundTrip(copy))) {
            int expected = 8;
            for (String id : x.idsByRecency()) {
                expected += 12 + id.getBytes(StandardCharsets.UTF_8).length;
            }
            assertEquals(expected, x.encodedSize(), x.idsByRecency().toString());
            ByteBuffer buf = ByteBuffer.allocate(x.encodedSize());
            x.writeTo(buf);
            assertEquals(0, buf.remaining(), "writeTo fills exactly encodedSize bytes");
        }
        assertEquals(List.of("日本", "ζζζ", "c"), roundTrip(v).idsByRecency());
    }

    private static ItemVocabulary roundTrip(ItemVocabulary v) {
        ByteBuffer buf = ByteBuffer.allocate(v.encodedSize());
        v.writeTo(buf);
        buf.flip();
        return ItemVocabulary.readFrom(buf, v.capacity(), true);
    }

    @Test
    void countsTargetsAndResetsARowThatChangesHands() {
        ItemVocabulary v = new ItemVocabulary(3);
        v.plan(List.of("x", "y", "x"), List.of("x", "x")).commit();
        assertEquals(2, v.count(v.rowOf("x")));
        assertEquals(0, v.count(v.rowOf("y")));
        v.plan(List.of("y", "z"), List.of("z")).commit();
        assertEquals(0, v.rowOf("x"), "x was least recently seen");
        assertEquals(1, v.count(v.rowOf("z")), "z's row starts from 0, not from x's count");
    }

    /** Draws follow (count + 1) / total, and the proposal follows later commits. */
    @Test
    void theProposalDrawsByPopularity() {
        ItemVocabulary v = new ItemVocabulary(6);
        v.plan(List.of("a", "b", "c"), List.of("a", "a", "a", "b")).commit();
        ItemVocabulary.Proposal q = v.proposal();
        assertEquals(4 + 2 + 1, q.total());
        assertEquals(4.0 / 7, q.probability(v.rowOf("a")), 1e-12);
        assertEquals(1.0 / 7, q.probability(v.rowOf("c")), 1e-12);
        int[] drawn = new int[6];
        Random random = new Random(3);
        int n = 70_000;
        for (int i = 0; i < n; i++) {
            drawn[q.draw(random)]++;
        }
        assertEquals(0, drawn[0] + drawn[4] + drawn[5], "only rows in use");
        assertEquals(4.0 / 7, drawn[v.rowOf("a")] / (double) n, 0.01);
        assertEquals(2.0 / 7, drawn[v.rowOf("b")] / (double) n, 0.01);
        v.plan(List.of("d", "c"), List.of("c", "c")).commit();
        assertEquals(4 + 2 + 3 + 1, q.total());
        assertEquals(3.0 / 10, q.probability(v.rowOf("c")), 1e-12);
        assertEquals(v.proposal().total(), v.copy().proposal().total());
    }
}
