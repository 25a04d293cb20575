package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.feeds.FeedOptions;
import io.streamlearn.jobs.input.InputOptions;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
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
        int checked = 0;
        for (Class<?> options :
                List.of(StreamlearnOptions.class, FeedOptions.class, InputOptions.class)) {
            for (Field field : options.getFields()) {
                if (Modifier.isStatic(field.getModifiers())
                        && field.getType() == ConfigOption.class) {
                    String key = ((ConfigOption<?>) field.get(null)).key();
                    assertTrue(
                            docs.contains("`" + key + "`"),
                            key + " is missing from docs/configuration.md");
                    checked++;
                }
            }
        }
        assertTrue(checked > 20, "found the options by reflection");
    }
}
