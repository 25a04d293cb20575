package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Softmax;
import io.streamlearn.models.ModelConfig.Task;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Long runs leave native memory flat: after a warm-up, thousands of training steps and inference
 * calls leave every manager holding the same number of arrays.
 */
class NativeMemoryTest {

    @Test
    void learnersHoldNoArraysBetweenSteps() {
        ModelConfig values =
                ModelConfig.builder()
                        .setFamily(Family.ATTENTION)
                        .setWindow(8)
                        .optHiddenSize(8)
                        .build();
        ModelConfig items =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(Family.LSTM)
                        .setWindow(6)
                        .optHiddenSize(8)
                        .optItemCapacity(30)
                        .optSoftmax(Softmax.SAMPLED)
                        .optNegatives(5)
                        .optDropout(0.1f)
                        .optLayers(2)
                        .build();
        for (ModelConfig config : List.of(values, items)) {
            List<Batch> batches = OnlineLearnerTest.batches(config, 1L, 20);
            try (OnlineLearner learner = new OnlineLearner(config)) {
                int before = learner.managedArrayCount();
                for (int i = 0; i < 1000; i++) {
                    Batch b = batches.get(i % batches.size());
                    learner.train(b);
                    learner.evaluate(b);
                }
                assertEquals(before, learner.managedArrayCount(), config.toString());
            }
        }
    }

    @Test
    void inferenceCallsHoldNoArrays() {
        SineSeries series = new SineSeries(2L, 4, 100);
        SineSeries.Examples b = series.next(8, 8);
        ModelConfig lstm = ModelConfig.builder().setWindow(8).optHiddenSize(8).optLayers(2).build();
        try (OnlineLearner learner = new OnlineLearner(lstm);
                Forecaster forecaster = Forecaster.create(learner.snapshot())) {
            forecaster.forecast(b.windows);
            int before = forecaster.managedArrayCount();
            for (int i = 0; i < 1000; i++) {
                Forecasts f = forecaster.forecast(b.windows);
                RecurrentState[] states = new RecurrentState[8];
                for (int r = 0; r < 8; r++) {
                    states[r] = f.state(r);
                }
                forecaster.step(states, b.targets);
            }
            assertEquals(before, forecaster.managedArrayCount());
        }
        ModelConfig attention = lstm.toBuilder().setFamily(Family.ATTENTION).build();
        try (OnlineLearner learner = new OnlineLearner(attention);
                Forecaster forecaster = Forecaster.create(learner.snapshot())) {
            int before = forecaster.managedArrayCount();
            for (int i = 0; i < 500; i++) {
                forecaster.forecast(b.windows);
            }
            assertEquals(before, forecaster.managedArrayCount());
        }
        ModelConfig autoencoder =
                lstm.toBuilder()
                        .setTask(Task.RECONSTRUCTION)
                        .setFamily(Family.LSTM_AUTOENCODER)
                        .build();
        try (OnlineLearner learner = new OnlineLearner(autoencoder);
                Reconstructor reconstructor = Reconstructor.create(learner.snapshot())) {
            int before = reconstructor.managedArrayCount();
            for (int i = 0; i < 500; i++) {
                reconstructor.errors(b.windows);
            }
            assertEquals(before, reconstructor.managedArrayCount());
        }
        ModelConfig items =
                ModelConfig.builder()
                        .setTask(Task.NEXT_ITEM)
                        .setFamily(Family.GRU)
                        .setWindow(4)
                        .optHiddenSize(8)
                        .optItemCapacity(20)
                        .build();
        try (OnlineLearner learner = new OnlineLearner(items)) {
            learner.train(new Clickstream(3L, 4, 10, 5).batch(8));
            try (Recommender recommender = Recommender.create(learner.snapshot())) {
                String[][] histories = {{"item-1", "item-2"}, {"item-3"}};
                int before = recommender.managedArrayCount();
                for (int i = 0; i < 500; i++) {
                    Recommendations r = recommender.recommend(histories, 3, null);
                    recommender.step(
                            new RecurrentState[] {r.state(0), r.state(1)},
                            new String[] {"item-4", "x"},
                            3,
                            List.of(List.of("item-1"), List.of()));
                }
                assertEquals(before, recommender.managedArrayCount());
            }
        }
    }
}
