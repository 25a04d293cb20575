package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.ItemOutput;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.metrics.RankingMetrics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The untied next-item head: its tensors, the sampled softmax with the popularity proposal, and
 * that training on samples still yields a model that ranks the whole catalogue well.
 */
class NextItemHeadTest {

    private static final Logger LOG = LoggerFactory.getLogger(NextItemHeadTest.class);

    private static ModelConfig.Builder config(long seed) {
        return ModelConfig.builder()
                .setTask(Task.NEXT_ITEM)
                .setFamily(Family.GRU)
                .setWindow(4)
                .optHiddenSize(32)
                .optItemCapacity(256)
                .optLearningRate(0.01f)
                .optItemOutput(ItemOutput.UNTIED)
                .optSeed(seed);
    }

    @Test
    void theUntiedHeadHasAnOutputTableAndABiasPerRowTheTiedOneNeither() {
        ParameterLayout untied = ParameterLayout.of(config(1).build());
        ParameterLayout tied = ParameterLayout.of(config(1).optItemOutput(ItemOutput.TIED).build());
        // Output table, bias, and (by default) the successor slots' candidates and weights.
        assertEquals(untied.size(), tied.size() + 4);
        assertEquals(256 * 32, untied.get(untied.indexOf(ParameterLayout.ITEM_OUTPUT)).size());
        assertEquals(256, untied.get(untied.indexOf(ParameterLayout.ITEM_BIAS)).size());
        assertEquals(1, untied.get(untied.indexOf(ParameterLayout.ITEM_BIAS)).rowLength());
        assertEquals(5, untied.itemTables().length);
        assertEquals(1, tied.itemTables().length);
        assertEquals(-1, tied.find(ParameterLayout.ITEM_OUTPUT));
    }

    /**
     * Trained with 24 negatives drawn by popularity out of 120 items, the model ranks the full
     * catalogue at least twice as well as the most popular items, for several seeds.
     */
    @ParameterizedTest
    @ValueSource(longs = {5L, 6L, 7L})
    void theSampledSoftmaxLearnsAModelThatRanksTheWholeCatalogue(long seed) {
        ModelConfig sampled = config(seed).optSoftmax(Softmax.SAMPLED).optNegatives(24).build();
        Clickstream stream = new Clickstream(seed + 100, 64, 120, 20);
        Map<String, Integer> popularity = new HashMap<>();
        try (OnlineLearner learner = new OnlineLearner(sampled)) {
            for (int i = 0; i < 250; i++) {
                Batch b = stream.batch(32);
                for (String item : b.nextItems()) {
                    popularity.merge(item, 1, Integer::sum);
                }
                assertTrue(Float.isFinite(learner.train(b)));
            }
            List<String> popular =
                    popularity.entrySet().stream()
                            .sorted(
                                    Map.Entry.<String, Integer>comparingByValue()
                                            .reversed()
                                            .thenComparing(Map.Entry.comparingByKey()))
                            .limit(10)
                            .map(Map.Entry::getKey)
                            .toList();
            RankingMetrics model = new RankingMetrics(10, Long.MAX_VALUE);
            RankingMetrics baseline = new RankingMetrics(10, Long.MAX_VALUE);
            try (Recommender recommender = Recommender.create(learner.snapshot())) {
                assertEquals(120, recommender.knownItems(), "serving ranks every known item");
                for (int i = 0; i < 20; i++) {
                    Batch b = stream.batch(32);
                    Recommendations r = recommender.recommend(b.histories(), 10, null);
                    for (int row = 0; row < b.size(); row++) {
                        List<String> ids = r.items(row).stream().map(ScoredItem::itemId).toList();
                        model.add(ids, b.nextItems()[row]);
                        baseline.add(popular, b.nextItems()[row]);
                    }
                }
            }
            LOG.info(
                    "sampled softmax, seed {}: HR@10 {} vs popularity {}",
                    seed,
                    model.hitRate(),
                    baseline.hitRate());
            assertTrue(
                    model.hitRate() >= 2 * baseline.hitRate(),
                    "HR@10 " + model.hitRate() + " vs popularity " + baseline.hitRate());
        }
    }

    /** Same batches, same state: the popularity draws are part of the deterministic step. */
    @Test
    void sampledTrainingIsDeterministic() {
        ModelConfig sampled = config(3).optSoftmax(Softmax.SAMPLED).optNegatives(8).build();
        ModelState[] runs = new ModelState[2];
        for (int run = 0; run < 2; run++) {
            Clickstream stream = new Clickstream(8L, 16, 40, 10);
            try (OnlineLearner learner = new OnlineLearner(sampled)) {
                for (int i = 0; i < 10; i++) {
                    learner.train(stream.batch(16));
                }
                runs[run] = learner.snapshot();
            }
        }
        assertEquals(runs[0], runs[1]);
        assertEquals(runs[0], ModelState.decode(runs[0].encode()));
    }
}
