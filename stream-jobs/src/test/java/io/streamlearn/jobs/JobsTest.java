package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.runtime.operators.sink.SinkWriterOperatorFactory;
import org.junit.jupiter.api.Test;

/** Which sinks the job graphs of {@link Jobs} write to (graphs only: no broker is contacted). */
class JobsTest {
    private static JobSettings settings(String task) {
        Configuration conf = new Configuration();
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9");
        conf.setString("streamlearn.model.task", task);
        return JobSettings.from(conf);
    }

    /** Sink writer name → the sink it writes with. */
    private static Map<String, Sink<?>> sinks(
            BiConsumer<StreamExecutionEnvironment, JobSettings> build, JobSettings settings) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        build.accept(env, settings);
        Map<String, Sink<?>> sinks = new TreeMap<>();
        for (StreamNode node : env.getStreamGraph().getStreamNodes()) {
            if (node.getOperatorFactory() instanceof SinkWriterOperatorFactory<?, ?> writer) {
                sinks.put(node.getOperatorName(), writer.getSink());
            }
        }
        return sinks;
    }

    @Test
    void theAnomalyScoresJobDropsTheForecastsThatTheJobOfRunWrites() {
        JobSettings settings = settings("next-value");
        Map<String, Sink<?>> run = sinks(Jobs::buildWithKafka, settings);
        Map<String, Sink<?>> scores = sinks(Jobs::buildAnomalyScoresWithKafka, settings);

        assertInstanceOf(KafkaSink.class, run.get("predictions: Writer"), run.toString());
        assertInstanceOf(
                DiscardingSink.class, scores.get("predictions: Writer"), scores.toString());
        assertInstanceOf(KafkaSink.class, run.get("anomaly scores: Writer"), run.toString());
        assertInstanceOf(KafkaSink.class, scores.get("anomaly scores: Writer"), scores.toString());
    }

    @Test
    void theAnomalyScoresJobRefusesTheRecommendationTask() {
        assertThrows(
                IllegalArgumentException.class,
                () -> sinks(Jobs::buildAnomalyScoresWithKafka, settings("next-item")));
    }
}
