package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamlearn.jobs.runtime.EmbeddedKafka;
import io.streamlearn.jobs.runtime.MetricGenerator;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.MetricEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What {@code streamlearn.delivery.guarantee} changes, as a consumer sees it. The checkpoint
 * interval is a year, so no checkpoint completes unless the test asks for one: with {@code
 * at-least-once} the predictions are readable by a {@code read_committed} consumer all the same;
 * with the default ({@code exactly-once}) they are written but stay invisible to it until a
 * checkpoint commits them.
 */
class DeliveryGuaranteeITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = Fixtures.miniCluster(Fixtures.flinkTestConfig(), 2);

    @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
    private static EmbeddedKafka kafka;

    /** 4 series of 100 events: past the normaliser's warm-up, enough examples for a first model. */
    private static final int EVENTS = 400;

    @BeforeAll
    static void kafka() throws Exception {
        kafka = KAFKA.kafka();
    }

    @Test
    void atLeastOnceShowsPredictionsToReadCommittedBeforeAnyCheckpoint(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        Configuration conf = config("at-least-once");
        conf.set(StreamlearnOptions.DELIVERY_GUARANTEE, "at-least-once");
        JobSettings settings = start(conf);
        JobClient job = run(settings);
        try (TopicReader committed =
                new TopicReader(kafka.bootstrapServers(), settings.predictionsTopic())) {
            committed.awaitUntil(
                    r -> r.size() >= EVENTS,
                    Duration.ofMinutes(2),
                    EVENTS + " predictions for read_committed");
            assertEquals(0, completedCheckpoints(cluster, job.getJobID()));
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void exactlyOnceByDefaultShowsPredictionsOnlyOnceACheckpointCommitsThem(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        JobSettings settings = start(config("exactly-once"));
        assertEquals(
                StreamlearnOptions.DELIVERY_GUARANTEE.defaultValue(),
                "exactly-once",
                "the default users get");
        JobClient job = run(settings);
        try (TopicReader uncommitted =
                        TopicReader.uncommitted(
                                kafka.bootstrapServers(), settings.predictionsTopic());
                TopicReader committed =
                        new TopicReader(kafka.bootstrapServers(), settings.predictionsTopic())) {
            uncommitted.awaitUntil(
                    r -> r.size() >= EVENTS,
                    Duration.ofMinutes(2),
                    EVENTS + " predictions written");
            // Read up to the last stable offset: the open transaction holds it at the start.
            assertEquals(0, committed.readToEnd(Duration.ofSeconds(30)).size());
            assertEquals(0, completedCheckpoints(cluster, job.getJobID()));

            cluster.triggerCheckpoint(job.getJobID()).get();
            committed.awaitUntil(
                    r -> r.size() >= EVENTS,
                    Duration.ofMinutes(1),
                    EVENTS + " predictions committed by the checkpoint");
        } finally {
            job.cancel().get();
        }
    }

    private static Configuration config(String run) {
        Configuration conf = Fixtures.jobConfig(kafka, "delivery-" + run);
        conf.set(StreamlearnOptions.CHECKPOINT_INTERVAL, Duration.ofDays(365));
        return conf;
    }

    /** Settings from {@code conf}, their topics, and the input already in its topic. */
    private static JobSettings start(Configuration conf) throws Exception {
        JobSettings settings = JobSettings.from(conf);
        Fixtures.createTopics(kafka, settings);
        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        MetricGenerator generator =
                new MetricGenerator(4, 3L, 0.05, 0.0, Instant.parse("2026-01-01T00:00:00Z"));
        List<byte[]> input = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            input.add(serde.encode(generator.next()));
        }
        Fixtures.produce(kafka, settings.eventsTopic(), input);
        return settings;
    }

    private static JobClient run(JobSettings settings) throws Exception {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(Fixtures.flinkTestConfig());
        env.setParallelism(1);
        Jobs.buildWithKafka(env, settings);
        return env.executeAsync("delivery guarantee");
    }

    private static long completedCheckpoints(MiniCluster cluster, JobID job) throws Exception {
        return cluster.getExecutionGraph(job)
                .get()
                .getCheckpointStatsSnapshot()
                .getCounts()
                .getNumberOfCompletedCheckpoints();
    }
}
