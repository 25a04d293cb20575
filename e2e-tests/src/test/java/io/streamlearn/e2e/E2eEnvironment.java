package io.streamlearn.e2e;

import io.streamlearn.jobs.runtime.Directories;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The processes every e2e test shares: one Kafka broker and one Flink cluster (a job manager and
 * two task managers), started once per test JVM and killed when the last test class is done (or by
 * a shutdown hook, if the JVM dies first). Each scenario has topics, transactional ids and a
 * checkpoint directory of its own, so sharing the processes shares no state between scenarios. Logs
 * stay under {@code e2e-tests/target/e2e/}.
 */
public final class E2eEnvironment implements BeforeAllCallback {
    private static Processes processes;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        context.getRoot()
                .getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(Processes.class, k -> startProcesses(), Processes.class);
    }

    private static Processes startProcesses() {
        try {
            Path work = Path.of(System.getProperty("e2e.work", "target/e2e"));
            Directories.deleteRecursively(work);
            Files.createDirectories(work);
            KafkaBroker kafka =
                    KafkaBroker.start(
                            work.resolve("kafka"), read(System.getProperty("e2e.kafka.classpath")));
            FlinkCluster flink =
                    FlinkCluster.start(
                            work.resolve("flink"),
                            read(System.getProperty("e2e.flink.classpath")),
                            Path.of(System.getProperty("e2e.flink.lib")),
                            2);
            String jarId = flink.rest().uploadJar(Path.of(System.getProperty("e2e.job.jar")));
            processes = new Processes(work, kafka, flink, jarId);
            return processes;
        } catch (Exception e) {
            throw new IllegalStateException("could not start the e2e processes", e);
        }
    }

    private static String read(String file) throws java.io.IOException {
        return Files.readString(Path.of(file)).trim();
    }

    static KafkaBroker kafka() {
        return processes.kafka;
    }

    static FlinkCluster flink() {
        return processes.flink;
    }

    /** The id of the uploaded {@code streamlearn-job.jar}. */
    static String jarId() {
        return processes.jarId;
    }

    static Path work() {
        return processes.work;
    }

    /** Closed by JUnit after the last test of the run. */
    record Processes(Path work, KafkaBroker kafka, FlinkCluster flink, String jarId)
            implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() throws Exception {
            try {
                flink.close();
            } finally {
                kafka.close();
            }
        }
    }
}
