package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Keeps models/ free of Flink and Kafka: the module must run without a cluster or a broker. */
class ModuleBoundaryTest {

    /** An import (static or not) or any fully qualified use of a Flink or Kafka package. */
    private static final Pattern FORBIDDEN =
            Pattern.compile("\\borg\\s*\\.\\s*apache\\s*\\.\\s*(flink|kafka)\\b");

    @Test
    void mainSourcesUseNeitherFlinkNorKafka() throws IOException {
        Path sources = Paths.get(System.getProperty("basedir", ".")).resolve("src/main/java");
        assertTrue(Files.isDirectory(sources), "no sources at " + sources.toAbsolutePath());
        List<Path> files;
        try (Stream<Path> walk = Files.walk(sources)) {
            files =
                    walk.filter(p -> p.toString().endsWith(".java"))
                            .sorted()
                            .collect(Collectors.toList());
        }
        assertFalse(files.isEmpty(), "no Java files under " + sources.toAbsolutePath());
        List<String> violations = new ArrayList<>();
        for (Path file : files) {
            violations.addAll(
                    violations(
                            sources.relativize(file).toString(),
                            Files.readString(file, StandardCharsets.UTF_8)));
        }
        assertTrue(
                violations.isEmpty(),
                "models/ must not use Flink or Kafka:\n" + String.join("\n", violations));
    }

    @Test
    void scannerCatchesImportsAndQualifiedNames() {
        assertEquals(
                1,
                violations("A.java", "import org.apache.flink.api.common.functions.MapFunction;\n")
                        .size());
        assertEquals(
                1,
                violations("B.java", "import static org.apache.kafka.common.utils.Utils.sleep;\n")
                        .size());
        List<String> found =
                violations(
                        "C.java",
                        "class C {\n  org.apache.kafka.clients.producer.Producer<?, ?> p;\n}\n");
        assertEquals(
                List.of("C.java:2: org.apache.kafka.clients.producer.Producer<?, ?> p;"), found);
        assertTrue(
                violations("D.java", "import org.apache.commons.lang3.StringUtils;\n").isEmpty());
    }

    /** Returns "file:line: text" for each line that names a Flink or Kafka package. */
    static List<String> violations(String file, String source) {
        List<String> out = new ArrayList<>();
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher m = FORBIDDEN.matcher(lines[i]);
            if (m.find()) {
                out.add(file + ":" + (i + 1) + ": " + lines[i].trim());
            }
        }
        return out;
    }
}
