package io.streamlearn.e2e;

/**
 * The container images of the Testcontainers variants, pinned in one place to the versions the
 * build uses (Kafka 4.2.1, Flink 2.2.1 on Java 17).
 */
final class ContainerImages {
    static final String KAFKA = "apache/kafka:4.2.1";
    static final String FLINK = "flink:2.2.1-java17";

    private ContainerImages() {}
}
