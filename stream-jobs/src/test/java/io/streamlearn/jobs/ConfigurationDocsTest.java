package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.device.DeviceOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;

/** Keeps docs/configuration.md true: every declared key is documented. */
class ConfigurationDocsTest {
    @Test
    void everyOptionIsDocumented() throws Exception {
        String docs = Files.readString(Path.of("..", "docs", "configuration.md"));
        List<ConfigOption<?>> options = ConfigOptionScan.streamlearn();
        for (ConfigOption<?> option : options) {
            assertTrue(
                    docs.contains("`" + option.key() + "`"),
                    option.key() + " is missing from docs/configuration.md");
        }
        assertTrue(
                options.contains(StreamlearnOptions.BOOTSTRAP_SERVERS)
                        && options.contains(DeviceOptions.TRAINER_DEVICE)
                        && options.size() > 25,
                "found the options classes by scanning: " + options.size());
    }
}
