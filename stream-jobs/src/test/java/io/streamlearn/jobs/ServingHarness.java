package io.streamlearn.jobs;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;

/** Operator harnesses for the predictors, run by {@link BatchedServing} as the jobs run them. */
final class ServingHarness {
    private ServingHarness() {}

    /** An open harness, one subtask, for a serving function. */
    static <Q, O> KeyedBroadcastOperatorTestHarness<String, Q, ModelUpdate, O> of(
            ModelServing<Q, ?, O> serving, KeySelector<Q, String> key) throws Exception {
        KeyedBroadcastOperatorTestHarness<String, Q, ModelUpdate, O> harness =
                new KeyedBroadcastOperatorTestHarness<>(
                        new BatchedServing<>(serving), key, Types.STRING, 1, 1, 0);
        harness.open();
        return harness;
    }

    /** Lets processing time pass a batch's deadline (the default max delay), answering it. */
    static void passDeadline(KeyedBroadcastOperatorTestHarness<String, ?, ?, ?> harness)
            throws Exception {
        harness.setProcessingTime(
                harness.getProcessingTime() + ModelServing.Batching.defaults().maxDelayMillis());
    }
}
