package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.Batch;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import java.time.Duration;
import java.util.List;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ItemPredictorTest {
    private static final ModelConfig CONFIG =
            ModelConfig.builder()
                    .setTask(ModelConfig.Task.NEXT_ITEM)
                    .setFamily(ModelConfig.Family.GRU)
                    .setWindow(3)
                    .optHiddenSize(16)
                    .optItemCapacity(16)
                    .optLearningRate(0.05f)
                    .build();
    private static ModelState model;

    /** A model that has learned the cycle a → b → c → d → a. */
    @BeforeAll
    static void learnACycle() {
        String[] cycle = {"a", "b", "c", "d"};
        String[][] histories = new String[4][];
        String[] next = new String[4];
        for (int i = 0; i < 4; i++) {
            histories[i] = new String[] {cycle[(i + 2) % 4], cycle[(i + 3) % 4], cycle[i]};
            next[i] = cycle[(i + 1) % 4];
        }
        try (OnlineLearner learner = new OnlineLearner(CONFIG)) {
            for (int step = 0; step < 150; step++) {
                learner.train(Batch.items(histories, next));
            }
            learner.nextVersion();
            model = learner.snapshot();
        }
    }

    private static KeyedBroadcastOperatorTestHarness<String, ItemQuery, ModelUpdate, Recommendation>
            harness(boolean excludeSeen) throws Exception {
        return ServingHarness.of(
                new ItemPredictor(
                        CONFIG,
                        TimeAlignment.NONE,
                        100,
                        new JobSettings.Recommend(2, excludeSeen, 10),
                        Duration.ZERO,
                        null,
                        DeviceMode.CPU,
                        ModelServing.Batching.defaults()),
                (ItemQuery q) -> q.userId);
    }

    private static List<String> ids(Recommendation r) {
        return r.getItems().stream().map(ScoredItem::getItemId).toList();
    }

    @Test
    void recommendsTheTopKNextItemsWithScoresAndVersion() throws Exception {
        try (var harness = harness(false)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            harness.processElement(new ItemQuery("u", 5, "c", new String[] {"a", "b", "c"}), 5);
            ServingHarness.passDeadline(harness);
            Recommendation r = harness.extractOutputValues().get(0);
            assertEquals("u", r.getUserId());
            assertEquals(5L, r.getEventTime().toEpochMilli());
            assertEquals(1L, r.getModelVersion());
            assertEquals(2, r.getItems().size(), "k = 2");
            assertEquals("d", ids(r).get(0), "the cycle's next item first: " + r);
            assertTrue(r.getItems().get(0).getScore() >= r.getItems().get(1).getScore());
        }
    }

    @Test
    void excludesTheItemsAUserHasSeen() throws Exception {
        try (var harness = harness(true)) {
            harness.processBroadcastElement(new ModelUpdate(model, 0), 0);
            harness.processElement(new ItemQuery("u", 1, "d", new String[] {"d"}), 1);
            harness.processElement(new ItemQuery("u", 2, "c", new String[] {"d", "c"}), 2);
            harness.processElement(new ItemQuery("v", 3, "c", new String[] {"c"}), 3);
            ServingHarness.passDeadline(harness);
            List<Recommendation> out = harness.extractOutputValues();
            assertFalse(ids(out.get(0)).contains("d"), "d was seen: " + out.get(0));
            assertFalse(
                    ids(out.get(1)).contains("d") || ids(out.get(1)).contains("c"),
                    "c and d were seen: " + out.get(1));
            assertEquals(2, out.get(1).getItems().size(), "still k items");
            assertTrue(ids(out.get(2)).contains("d"), "another user has seen only c");
        }
    }
}
