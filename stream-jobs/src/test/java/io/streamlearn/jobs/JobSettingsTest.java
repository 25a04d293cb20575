package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.input.InputOptions;
import io.streamlearn.models.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobSettingsTest {
    private static final String BROKER = "streamlearn.kafka.bootstrap-servers";
    private static final String FAMILY = "streamlearn.model.family";
    private static final String TASK = "streamlearn.model.task";

    private static Configuration conf(Map<String, String> values) {
        return Configuration.fromMap(values);
    }

    @Test
    void appliesDefaults() {
        JobSettings settings =
                JobSettings.from(conf(Map.of("streamlearn.kafka.bootstrap-servers", "k:9092")));
        assertEquals("metrics", settings.eventsTopic());
        assertEquals(16, settings.model().window());
        assertEquals(32, settings.batchSize());
    }

    @Test
    void errorsNameTheKeyAndTheValue() {
        IllegalArgumentException missing =
                assertThrows(
                        IllegalArgumentException.class, () -> JobSettings.from(conf(Map.of())));
        assertTrue(
                missing.getMessage().contains("streamlearn.kafka.bootstrap-servers"),
                missing.getMessage());

        IllegalArgumentException window =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                JobSettings.from(
                                        conf(
                                                Map.of(
                                                        "streamlearn.kafka.bootstrap-servers",
                                                        "k:1",
                                                        "streamlearn.model.window",
                                                        "1"))));
        assertTrue(
                window.getMessage().startsWith("streamlearn.model.window")
                        && window.getMessage().contains("got 1")
                        && !window.getMessage().contains("streamlearn.model.streamlearn"),
                window.getMessage());

        IllegalArgumentException rate =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                JobSettings.from(
                                        conf(
                                                Map.of(
                                                        "streamlearn.kafka.bootstrap-servers",
                                                        "k:1",
                                                        "streamlearn.model.learning-rate",
                                                        "-0.1"))));
        assertTrue(
                rate.getMessage().contains("streamlearn.model.learning-rate"), rate.getMessage());
    }

    @Test
    void readsTheUsersOwnSchemaThroughTheInputKeys(@TempDir Path dir) throws Exception {
        String avsc =
                """
                {"type": "record", "name": "Reading", "namespace": "com.example", "fields": [
                  {"name": "sensor", "type": "string"},
                  {"name": "at", "type": "long"},
                  {"name": "celsius", "type": "double"}]}
                """;
        Path file = dir.resolve("reading.avsc");
        Files.writeString(file, avsc);
        Map<String, String> keys =
                Map.of(
                        "streamlearn.kafka.bootstrap-servers",
                        "k:9092",
                        InputOptions.SCHEMA_FILE.key(),
                        file.toString(),
                        InputOptions.ENTITY_FIELD.key(),
                        "sensor",
                        InputOptions.TIME_FIELD.key(),
                        "at",
                        InputOptions.VALUES_FIELDS.key(),
                        "celsius");

        Schema schema = new Schema.Parser().parse(avsc);
        GenericRecord reading = new GenericData.Record(schema);
        reading.put("sensor", "boiler-3");
        reading.put("at", 1_000L);
        reading.put("celsius", 71.5);
        byte[] bytes =
                new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema)
                        .encode(reading)
                        .array();
        var event = JobSettings.from(conf(keys)).decoder().decode(bytes);
        assertEquals("boiler-3", event.getSeriesId());
        assertEquals(java.util.List.of(71.5), event.getValues());

        Map<String, String> typo = new java.util.HashMap<>(keys);
        typo.put(InputOptions.ENTITY_FIELD.key(), "sensorId");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> JobSettings.from(conf(typo)));
        assertTrue(
                e.getMessage().contains(InputOptions.ENTITY_FIELD.key())
                        && e.getMessage().contains("sensorId"),
                e.getMessage());
    }

    @Test
    void everyNextValueFamilyAndItsSettingsAreConfigurable() {
        for (String family : List.of("rnn", "GRU", "lstm", "attention", "mlp")) {
            JobSettings settings =
                    JobSettings.from(
                            conf(
                                    Map.of(
                                            "streamlearn.kafka.bootstrap-servers", "k:1",
                                            "streamlearn.model.family", family,
                                            "streamlearn.model.layers", "2",
                                            "streamlearn.model.optimizer", "sgd_momentum",
                                            "streamlearn.model.weight-decay", "0.01")));
            assertEquals(family.toUpperCase(Locale.ROOT), settings.model().family().name());
            assertEquals(2, settings.model().layers());
            assertEquals(ModelConfig.Optimizer.SGD_MOMENTUM, settings.model().optimizer());
            assertEquals(0.01f, settings.model().weightDecay());
        }
        assertRejected("streamlearn.model.task", "forecast", "next-value, next-item or");
        assertRejected("streamlearn.time-alignment", "processing-time", "'none' or 'event-time'");
        assertRejected("streamlearn.anomaly.recent", "9000", "at most streamlearn.anomaly.history");
        assertRejected("streamlearn.anomaly.level", "1.5", "streamlearn.anomaly.level must be in");
        assertRejected("streamlearn.anomaly.warm-up", "-1", "at least 0, got -1");
        assertRejected("streamlearn.model.family", "cnn", "must be one of rnn, gru");
        assertRejected("streamlearn.model.optimizer", "lbfgs", "must be one of adam");
        assertRejected("streamlearn.model.dropout", "1.5", "dropout must be in [0, 1)");
        assertRejected("streamlearn.model.hidden-size", "5000", "but was 5000");
        assertRejected("streamlearn.predictor.recompute-every", "-1", "got -1");
    }

    @Test
    void theTaskFollowsTheFamilyUnlessSetAndPicksTheJob() {
        JobSettings autoencoder =
                JobSettings.from(conf(Map.of(BROKER, "k:1", FAMILY, "lstm_autoencoder")));
        assertEquals(ModelConfig.Task.RECONSTRUCTION, autoencoder.model().task());
        assertTrue(!autoencoder.recommends() && autoencoder.decoder() != null);

        JobSettings items =
                nextItem(
                        Map.of(
                                "streamlearn.model.item-capacity",
                                "500",
                                "streamlearn.recommend.k",
                                "5"));
        assertTrue(items.recommends());
        assertEquals(500, items.model().itemCapacity());
        assertEquals(5, items.recommend().k());
        assertTrue(items.interactionDecoder() != null && items.decoder() == null);

        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                JobSettings.from(
                                        conf(
                                                Map.of(
                                                        BROKER, "k:1",
                                                        FAMILY, "lstm_autoencoder",
                                                        TASK, "next-item"))));
        assertTrue(
                e.getMessage().contains(FAMILY)
                        && e.getMessage().contains("cannot do " + TASK + " next-item"),
                e.getMessage());
    }

    @Test
    void outputIsExactlyOnceUnlessAtLeastOnceIsAsked() {
        assertEquals(
                DeliveryGuarantee.EXACTLY_ONCE,
                JobSettings.from(conf(Map.of(BROKER, "k:1"))).deliveryGuarantee());
        assertEquals(
                DeliveryGuarantee.AT_LEAST_ONCE,
                JobSettings.from(
                                conf(
                                        Map.of(
                                                BROKER,
                                                "k:1",
                                                "streamlearn.delivery.guarantee",
                                                "at-least-once")))
                        .deliveryGuarantee());
        assertRejected(
                "streamlearn.delivery.guarantee",
                "none",
                "must be one of exactly-once, at-least-once, got 'none'");
    }

    @Test
    void theBufferTimeoutIsFlinksUnlessSet() {
        String guarantee = "streamlearn.delivery.guarantee";
        String timeout = "streamlearn.network.buffer-timeout";
        assertEquals(null, JobSettings.from(conf(Map.of(BROKER, "k:1"))).bufferTimeout());
        assertEquals(
                null,
                JobSettings.from(conf(Map.of(BROKER, "k:1", guarantee, "at-least-once")))
                        .bufferTimeout());
        assertEquals(
                Duration.ofMillis(20),
                JobSettings.from(conf(Map.of(BROKER, "k:1", timeout, "20 ms"))).bufferTimeout());
        IllegalArgumentException negative =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> JobSettings.from(conf(Map.of(BROKER, "k:1", timeout, "-1 ms"))));
        assertTrue(
                negative.getMessage().contains(timeout) && negative.getMessage().contains("-1 ms"),
                negative.getMessage());
    }

    @Test
    void successorSlotsAreConfigurable() {
        ModelConfig defaults = nextItem(Map.of()).model();
        assertEquals(16, defaults.successorSlots(), "the untied head's default slots");
        assertEquals(2.0f, defaults.successorLearningRate());
        ModelConfig slots =
                nextItem(
                                Map.of(
                                        "streamlearn.model.item-successors",
                                        "4",
                                        "streamlearn.model.successor-learning-rate",
                                        "0.5"))
                        .model();
        assertEquals(4, slots.successorSlots());
        assertEquals(0.5f, slots.successorLearningRate());
        assertEquals(
                0,
                nextItem(Map.of("streamlearn.model.item-successors", "0"))
                        .model()
                        .successorSlots());
        assertRejected("streamlearn.model.item-successors", "-1", "got -1");
        assertRejected("streamlearn.model.item-successors", "5000", "but was 5000");
        assertRejected("streamlearn.model.successor-learning-rate", "0", "got 0");
    }

    /** A GRU next-item job with these keys besides. */
    private static JobSettings nextItem(Map<String, String> keys) {
        Map<String, String> values =
                new HashMap<>(Map.of(BROKER, "k:1", FAMILY, "gru", TASK, "next-item"));
        values.putAll(keys);
        return JobSettings.from(conf(values));
    }

    private static void assertRejected(String key, String value, String message) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                JobSettings.from(
                                        conf(
                                                Map.of(
                                                        "streamlearn.kafka.bootstrap-servers",
                                                        "k:1",
                                                        key,
                                                        value))));
        assertTrue(
                e.getMessage().startsWith(key) && e.getMessage().contains(message), e.getMessage());
    }
}
