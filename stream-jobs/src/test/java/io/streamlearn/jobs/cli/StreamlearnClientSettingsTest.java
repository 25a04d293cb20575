package io.streamlearn.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.KafkaClientProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code read}, {@code models} and {@code generate} take the job's file for a secured cluster. */
class StreamlearnClientSettingsTest {
    @Test
    void theJobsFileGivesTheClientSettingsAndTheFlagTheBrokers(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("job.properties");
        Files.writeString(
                file,
                "streamlearn.kafka.bootstrap-servers=file:9093\n"
                        + "streamlearn.kafka.properties.security.protocol=SASL_SSL\n"
                        + "streamlearn.kafka.properties.sasl.mechanism=SCRAM-SHA-512\n"
                        + "streamlearn.model.window=8\n");
        KafkaClientProperties fromFile =
                Streamlearn.clientSettings(Map.of("config", file.toString()), "read");
        assertEquals("file:9093", fromFile.bootstrapServers());
        assertEquals(
                Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512"),
                fromFile.passThrough());

        KafkaClientProperties overridden =
                Streamlearn.clientSettings(
                        Map.of("config", file.toString(), "bootstrap-servers", "flag:9093"),
                        "read");
        assertEquals("flag:9093", overridden.bootstrapServers());
        assertEquals(fromFile.passThrough(), overridden.passThrough());
    }

    @Test
    void withoutBrokersTheCommandSaysWhatItNeeds() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Streamlearn.clientSettings(Map.of(), "generate"));
        assertTrue(e.getMessage().startsWith("generate needs --bootstrap-servers"), e.getMessage());
    }
}
