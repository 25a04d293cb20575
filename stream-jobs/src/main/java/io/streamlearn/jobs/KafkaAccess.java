package io.streamlearn.jobs;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/**
 * The start-up check that Kafka answers with the configured client settings, before a job, a feed
 * or a command relies on it. Kafka's clients never retry a refused login, but Flink restarts a job
 * whose source or sink failed, and Kafka Streams reports the failure only in its state: without
 * this check a wrong password shows as a job that restarts forever. With it, the run stops at once
 * with a message naming the settings to look at.
 */
public final class KafkaAccess {
    /** How long the brokers get to answer; a refused login answers at once. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    private KafkaAccess() {}

    /**
     * Asks the cluster for its id with an admin client of these settings.
     *
     * @throws IllegalArgumentException when the brokers refuse the login or the TLS handshake: the
     *     message names the broker, Kafka's reason and the keys that decide it
     * @throws IllegalStateException when no broker answers within {@link #TIMEOUT}
     */
    public static void check(KafkaClientProperties kafka) {
        try (Admin admin = kafka.admin()) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) TIMEOUT.toMillis()))
                    .clusterId()
                    .get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to Kafka", e);
        } catch (ExecutionException e) {
            throw explain(kafka, e.getCause());
        }
    }

    /**
     * A failure of a Kafka client turned into a message a user can act on; other failures are
     * wrapped with the brokers' address.
     */
    public static RuntimeException explain(KafkaClientProperties kafka, Throwable failure) {
        String at = "Kafka at " + kafka.bootstrapServers();
        String protocol =
                kafka.passThrough()
                        .getOrDefault(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
        if (failure instanceof SaslAuthenticationException) {
            return new IllegalArgumentException(
                    at
                            + " refused the SASL login ("
                            + kafka.passThrough()
                                    .getOrDefault(
                                            SaslConfigs.SASL_MECHANISM,
                                            SaslConfigs.DEFAULT_SASL_MECHANISM)
                            + "): "
                            + sentence(failure.getMessage())
                            + " Check the user name and password in "
                            + KafkaClientProperties.PREFIX
                            + SaslConfigs.SASL_JAAS_CONFIG
                            + " and "
                            + KafkaClientProperties.PREFIX
                            + SaslConfigs.SASL_MECHANISM
                            + ".",
                    failure);
        }
        if (failure instanceof SslAuthenticationException) {
            return new IllegalArgumentException(
                    "The TLS handshake with "
                            + at
                            + " failed: "
                            + sentence(rootMessage(failure))
                            + " Check "
                            + KafkaClientProperties.PREFIX
                            + "ssl.truststore.location (it must hold the brokers' CA"
                            + " certificate) and the brokers' host names.",
                    failure);
        }
        if (failure instanceof AuthenticationException) {
            return new IllegalArgumentException(
                    at
                            + " refused the client ("
                            + protocol
                            + "): "
                            + sentence(failure.getMessage())
                            + " Check the "
                            + KafkaClientProperties.PREFIX
                            + "* settings.",
                    failure);
        }
        if (failure instanceof org.apache.kafka.common.errors.TimeoutException) {
            return new IllegalStateException(
                    "No answer from "
                            + at
                            + " within "
                            + TIMEOUT.toSeconds()
                            + " s ("
                            + CommonClientConfigs.SECURITY_PROTOCOL_CONFIG
                            + " "
                            + protocol
                            + "). Check "
                            + StreamlearnOptions.BOOTSTRAP_SERVERS.key()
                            + " and that "
                            + KafkaClientProperties.PREFIX
                            + CommonClientConfigs.SECURITY_PROTOCOL_CONFIG
                            + " matches the brokers' listener.",
                    failure);
        }
        return new IllegalStateException(at + ": " + failure, failure);
    }

    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }

    private static String sentence(String message) {
        return message == null ? "" : message.endsWith(".") ? message : message + ".";
    }
}
