package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class JobSettingsTest {
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
                window.getMessage().contains("streamlearn.model.window")
                        && window.getMessage().contains("got 1"),
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
}
