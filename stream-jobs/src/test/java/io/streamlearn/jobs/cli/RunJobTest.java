package io.streamlearn.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunJobTest {
    @Test
    void argumentsOverrideTheConfigFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("job.properties");
        Files.writeString(
                file,
                "streamlearn.kafka.bootstrap-servers=file:9092\nstreamlearn.model.window=8\n");
        Configuration conf =
                RunJob.configuration(
                        new String[] {
                            "--streamlearn.kafka.bootstrap-servers",
                            "arg:9092",
                            "--config",
                            file.toString()
                        });
        assertEquals("arg:9092", conf.getString("streamlearn.kafka.bootstrap-servers", null));
        assertEquals("8", conf.getString("streamlearn.model.window", null));
    }

    @Test
    void refusesWhatIsNeitherAFileNorAKey() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> RunJob.configuration(new String[] {"--parallelism", "2"}));
        assertTrue(e.getMessage().contains("--parallelism"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> RunJob.configuration(new String[] {"--config"}));
    }
}
