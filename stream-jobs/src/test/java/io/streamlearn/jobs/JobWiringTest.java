package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** What {@link JobWiring#configure} sets on the environment both jobs are built in. */
class JobWiringTest {
    @Test
    void theJobsBufferTimeoutIsSetWhereTheKeyIsGiven() {
        assertEquals(
                3,
                bufferTimeout(
                        Map.of(
                                "streamlearn.delivery.guarantee",
                                "at-least-once",
                                "streamlearn.network.buffer-timeout",
                                "3 ms")));
        assertEquals(0, bufferTimeout(Map.of("streamlearn.network.buffer-timeout", "0 ms")));
    }

    /**
     * Either guarantee: a lower timeout costs throughput (docs/benchmarks.md), so not by default.
     */
    @Test
    void withoutTheKeyFlinksBufferTimeoutStays() {
        long flinks = StreamExecutionEnvironment.getExecutionEnvironment().getBufferTimeout();
        assertEquals(flinks, bufferTimeout(Map.of()));
        assertEquals(
                flinks, bufferTimeout(Map.of("streamlearn.delivery.guarantee", "at-least-once")));
    }

    private static long bufferTimeout(Map<String, String> keys) {
        Configuration conf = new Configuration();
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, "k:1");
        keys.forEach(conf::setString);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobWiring.configure(env, JobSettings.from(conf));
        return env.getBufferTimeout();
    }
}
