package io.streamlearn.jobs.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RankingEvaluationTest {
    private static final double LOG2_3 = Math.log(3) / Math.log(2);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /**
     * Five events, K = 2, worked by hand (lists before each event):
     *
     * <pre>
     * 1 u1 a  u1's first event: not scored
     * 2 u2 a  not scored
     * 3 u1 b  model [b, c]: rank 1; popularity [a]: miss; transition after a: none, filled [a]: miss
     * 4 u2 b  model none: miss;  popularity [a, b]: rank 2; transition after a: [b, a]: rank 1
     * 5 u1 a  model [c, a]: rank 2; popularity [a, b] (a tie, a first seen): rank 1;
     *         transition after b: none, filled [a, b]: rank 1
     * </pre>
     */
    private static RankingEvaluation fiveEvents(boolean excludeSeen, int window, int step) {
        RankingEvaluation e = new RankingEvaluation(2, excludeSeen, window, step);
        assertFalse(e.add("u1", "a", T0, List.of("x", "y")), "a user's first event");
        assertFalse(e.add("u2", "a", T0.plusSeconds(1), null));
        assertTrue(e.add("u1", "b", T0.plusSeconds(2), List.of("b", "c")));
        assertTrue(e.add("u2", "b", T0.plusSeconds(3), null));
        assertTrue(e.add("u1", "a", T0.plusSeconds(4), List.of("c", "a")));
        return e;
    }

    @Test
    void scoresTheModelAndBothBaselinesOnTheSameEventsAsWorkedByHand() {
        RankingEvaluation.Figures f = fiveEvents(false, 10, 10).overall();

        assertEquals(5, f.events());
        assertEquals(3, f.scored());
        assertEquals(2.0 / 3, f.model().hr(), 1e-12);
        assertEquals((1 + 1 / LOG2_3) / 3, f.model().ndcg(), 1e-12);
        assertEquals((1 + 0.5) / 3, f.model().mrr(), 1e-12);
        assertEquals(2.0 / 3, f.popularity().hr(), 1e-12);
        assertEquals((1 / LOG2_3 + 1) / 3, f.popularity().ndcg(), 1e-12);
        assertEquals((0.5 + 1) / 3, f.popularity().mrr(), 1e-12);
        assertEquals(2.0 / 3, f.transition().hr(), 1e-12);
        assertEquals(2.0 / 3, f.transition().mrr(), 1e-12);
    }

    @Test
    void excludeSeenSkipsTheUsersItemsInBothBaselinesAndFillsFromFurtherDown() {
        RankingEvaluation e = new RankingEvaluation(2, true, 10, 10);
        e.add("u1", "a", T0, null);
        e.add("u2", "b", T0, null);
        e.add("u2", "b", T0, null);
        e.add("u3", "c", T0, null);
        e.add("u3", "a", T0, null);
        // popularity: a 2, b 2, c 1 (a is the first seen of the tied); transitions: b -> b, c -> a

        assertEquals(List.of("a", "b"), e.baselineLists("u9").get("popularity"));
        assertEquals(List.of("b", "c"), e.baselineLists("u1").get("popularity"), "a is seen");
        assertEquals(
                List.of("b"),
                e.baselineLists("u3").get("transition"),
                "after a: no transitions; popularity without a and c leaves b alone");
        assertEquals(List.of("a", "c"), e.baselineLists("u2").get("popularity"));
        assertEquals(List.of("a", "c"), e.baselineLists("u2").get("transition"), "b -> b is seen");

        RankingEvaluation all = new RankingEvaluation(2, false, 10, 10);
        all.add("u2", "b", T0, null);
        all.add("u2", "b", T0, null);
        all.add("u2", "c", T0, null);
        assertEquals(
                List.of("b", "c"), all.baselineLists("u2").get("transition"), "after c: filled");
        assertEquals(List.of("b", "c"), all.baselineLists("u2").get("popularity"));
    }

    @Test
    void theCurveIsASlidingWindowOfScoredEventsAndTheFilesFollowTheContract(@TempDir Path dir)
            throws Exception {
        RankingEvaluation e = fiveEvents(false, 2, 1);
        RankingEvaluation.Figures recent = e.recent();
        assertEquals(0.5, recent.model().hr(), 1e-12, "events 4 and 5: a miss and a hit");
        assertEquals(1.0, recent.transition().hr(), 1e-12);

        e.write(dir);

        JsonNode json = new ObjectMapper().readTree(dir.resolve("metrics.json").toFile());
        assertEquals(5, json.get("events").asInt());
        assertEquals(2, json.get("k").asInt());
        assertEquals(2.0 / 3, json.get("model").get("hr").asDouble(), 1e-6);
        assertEquals(1, json.get("model").get("missing_lists").asInt());
        assertEquals(0.5, json.get("baselines").get("popularity").get("mrr").asDouble(), 1e-6);
        assertEquals(2.0 / 3, json.get("baselines").get("transition").get("ndcg").asDouble(), 1e-6);

        List<String> curve = Files.readAllLines(dir.resolve("curve.csv"));
        assertEquals(
                "events,scored,time,model_hr,model_ndcg,model_mrr,popularity_hr,popularity_ndcg,"
                        + "popularity_mrr,transition_hr,transition_ndcg,transition_mrr",
                curve.get(0));
        assertEquals(4, curve.size(), "a row per scored event (step 1)");
        assertTrue(curve.get(3).startsWith("5,3,2026-01-01T00:00:04Z,0.500000,"), curve.get(3));
    }

    @Test
    void withNothingScoredTheMetricsAreNull(@TempDir Path dir) throws Exception {
        RankingEvaluation e = new RankingEvaluation(10, false);
        e.add("u", "a", T0, null);
        e.write(dir);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("metrics.json").toFile());
        assertTrue(json.get("model").get("hr").isNull());
        assertEquals(1, Files.readAllLines(dir.resolve("curve.csv")).size(), "the header only");
    }
}
