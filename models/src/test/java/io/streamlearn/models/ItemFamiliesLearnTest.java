package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import io.streamlearn.models.metrics.RankingMetrics;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every NEXT_ITEM family learns a Markov clickstream: after training, its HR@10 on later events is
 * at least twice that of recommending the most popular items.
 */
class ItemFamiliesLearnTest {

    private static final Logger LOG = LoggerFactory.getLogger(ItemFamiliesLearnTest.class);

    private static final int ITEMS = 120;
    private static final int WINDOW = 8;

    @ParameterizedTest
    @EnumSource(
            value = Family.class,
            names = {"RNN", "GRU", "LSTM", "ATTENTION", "MLP"})
    void beatsPopularity(Family family) {
        ModelConfig config =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(family)
                        .setWindow(WINDOW)
                        .optHiddenSize(32)
                        .optItemCapacity(256)
                        .optSoftmax(Softmax.FULL)
                        .optLearningRate(0.01f)
                        .optSeed(5L)
                        .build();
        long start = System.nanoTime();
        Clickstream stream = new Clickstream(9L, 64, ITEMS, 20);
        Map<String, Integer> popularity = new HashMap<>();
        try (OnlineLearner learner = new OnlineLearner(config)) {
            for (int i = 0; i < 300; i++) {
                Batch b = stream.batch(32);
                for (String item : b.nextItems()) {
                    popularity.merge(item, 1, Integer::sum);
                }
                learner.train(b);
            }
            List<String> popular = new ArrayList<>(popularity.keySet());
            popular.sort(
                    Comparator.comparing((String id) -> -popularity.get(id))
                            .thenComparing(id -> id));
            popular = popular.subList(0, 10);
            RankingMetrics model = new RankingMetrics(10, Long.MAX_VALUE);
            RankingMetrics baseline = new RankingMetrics(10, Long.MAX_VALUE);
            try (Recommender recommender = Recommender.create(learner.snapshot())) {
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
                    "{}: HR@10 {} NDCG@10 {} MRR {} vs popularity HR@10 {}, {} ms",
                    family,
                    String.format("%.3f", model.hitRate()),
                    String.format("%.3f", model.ndcg()),
                    String.format("%.3f", model.mrr()),
                    String.format("%.3f", baseline.hitRate()),
                    (System.nanoTime() - start) / 1_000_000);
            assertTrue(
                    model.hitRate() >= 2 * baseline.hitRate(),
                    family + ": HR@10 " + model.hitRate() + " vs " + baseline.hitRate());
        }
    }
}
