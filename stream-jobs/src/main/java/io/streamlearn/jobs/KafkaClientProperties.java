package io.streamlearn.jobs;

import java.io.Serializable;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every Kafka client of streamlearn is given: {@code streamlearn.kafka.bootstrap-servers} and
 * each {@code streamlearn.kafka.properties.<client key>} with its prefix taken off, as Flink's
 * Kafka connector does ({@code properties.*}): {@code security.protocol}, {@code sasl.mechanism},
 * {@code sasl.jaas.config}, {@code ssl.truststore.location} and any other producer, consumer, admin
 * or Kafka Streams key. The job's source and sinks, the start-up checks, the model store, the feeds
 * and the {@code read}, {@code models} and {@code generate} commands all take their client settings
 * from here, so a secured cluster is configured once.
 *
 * <p>Secrets (a key Kafka types as a password, such as {@code sasl.jaas.config} or {@code
 * ssl.keystore.key}, or one Flink hides, such as {@code *password*}) are never printed: {@link
 * #toString} masks them, and {@link #withoutSecrets} keeps them out of the job's configuration,
 * which Flink shows in its web UI.
 */
public final class KafkaClientProperties implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(KafkaClientProperties.class);

    /** The prefix of pass-through client keys. */
    public static final String PREFIX = "streamlearn.kafka.properties.";

    private static final String MASK = "******";

    private final String bootstrapServers;
    private final TreeMap<String, String> passThrough;

    private KafkaClientProperties(String bootstrapServers, Map<String, String> passThrough) {
        this.bootstrapServers = bootstrapServers;
        this.passThrough = new TreeMap<>(passThrough);
    }

    /**
     * The client settings a configuration holds.
     *
     * @throws IllegalArgumentException naming the key when the bootstrap servers are missing, or
     *     when a pass-through key is empty or is {@code bootstrap.servers} (which has its own key)
     */
    public static KafkaClientProperties from(Configuration conf) {
        String servers = conf.get(StreamlearnOptions.BOOTSTRAP_SERVERS);
        if (servers == null || servers.isBlank()) {
            throw new IllegalArgumentException(
                    StreamlearnOptions.BOOTSTRAP_SERVERS.key()
                            + " is required (host:port of your Kafka brokers)");
        }
        Map<String, String> passThrough = new HashMap<>();
        conf.toMap()
                .forEach(
                        (key, value) -> {
                            if (!key.startsWith(PREFIX)) {
                                return;
                            }
                            String clientKey = key.substring(PREFIX.length());
                            if (clientKey.isBlank()) {
                                throw new IllegalArgumentException(
                                        PREFIX
                                                + " needs a Kafka client key after it, got '"
                                                + key
                                                + "'");
                            }
                            if (clientKey.equals(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
                                throw new IllegalArgumentException(
                                        key
                                                + " is not allowed: give the brokers as "
                                                + StreamlearnOptions.BOOTSTRAP_SERVERS.key());
                            }
                            passThrough.put(clientKey, value);
                        });
        return new KafkaClientProperties(servers.trim(), passThrough);
    }

    /** Plain client settings, nothing passed through: the embedded broker of {@code demo}. */
    public static KafkaClientProperties of(String bootstrapServers) {
        return new KafkaClientProperties(bootstrapServers, Map.of());
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The pass-through client keys (prefix taken off) and their values. */
    public SortedMap<String, String> passThrough() {
        return Collections.unmodifiableSortedMap(passThrough);
    }

    /**
     * A client's settings: the bootstrap servers, the pass-through keys, then the client's own
     * settings, which win. The client's own are what streamlearn's guarantees rest on ({@code
     * isolation.level}, idempotence, sizes), so a pass-through key that would change one is
     * ignored, with a warning naming it.
     *
     * @param own the settings this client sets itself
     */
    public Map<String, Object> with(Map<String, ?> own) {
        Map<String, Object> out = new HashMap<>(passThrough);
        out.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        own.forEach(
                (key, value) -> {
                    if (passThrough.containsKey(key)
                            && !passThrough.get(key).equals(String.valueOf(value))) {
                        LOG.warn(
                                "{}{} is ignored by this client: streamlearn sets {} itself",
                                PREFIX,
                                key,
                                key);
                    }
                    out.put(key, value);
                });
        return out;
    }

    /** {@link #with} as {@link Properties}, for the builders of Flink's connector. */
    public Properties properties(Map<String, ?> own) {
        Properties properties = new Properties();
        properties.putAll(with(own));
        return properties;
    }

    /** An admin client with these settings; close it after use. */
    public Admin admin() {
        return Admin.create(with(Map.of()));
    }

    /**
     * Whether a client key holds a secret: Kafka types it as a password (in the producer, consumer,
     * admin or Kafka Streams configuration: {@code sasl.jaas.config}, {@code ssl.keystore.key},
     * {@code ssl.truststore.password}, ...), or Flink would hide it ({@link
     * GlobalConfiguration#isSensitive}). Flink's list misses some of Kafka's, {@code
     * ssl.keystore.key} among them. A key with a Kafka Streams client prefix ({@code
     * producer.ssl.keystore.key}) counts as the key it ends with.
     */
    public static boolean isSecret(String clientKey) {
        String key = clientKey.toLowerCase(Locale.ROOT);
        return GlobalConfiguration.isSensitive(key)
                || SecretKeys.PASSWORD_TYPED.stream()
                        .anyMatch(secret -> key.equals(secret) || key.endsWith("." + secret));
    }

    /**
     * The configuration without the pass-through keys that hold secrets: what the job hands to
     * Flink as its configuration (shown in the web UI), while the clients get the secrets through
     * {@link JobSettings}.
     */
    public static Configuration withoutSecrets(Configuration conf) {
        Map<String, String> kept = new HashMap<>(conf.toMap());
        kept.keySet()
                .removeIf(
                        key -> key.startsWith(PREFIX) && isSecret(key.substring(PREFIX.length())));
        return Configuration.fromMap(kept);
    }

    /** The bootstrap servers and the pass-through keys, secrets masked. */
    @Override
    public String toString() {
        return "bootstrap.servers="
                + bootstrapServers
                + passThrough.entrySet().stream()
                        .map(
                                e ->
                                        ", "
                                                + e.getKey()
                                                + "="
                                                + (isSecret(e.getKey()) ? MASK : e.getValue()))
                        .collect(Collectors.joining());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KafkaClientProperties other
                && bootstrapServers.equals(other.bootstrapServers)
                && passThrough.equals(other.passThrough);
    }

    @Override
    public int hashCode() {
        return bootstrapServers.hashCode() * 31 + passThrough.hashCode();
    }

    /** Kafka's own list of secrets, read once from the clients' configuration definitions. */
    private static final class SecretKeys {
        static final Set<String> PASSWORD_TYPED =
                Stream.of(
                                ProducerConfig.configDef(),
                                ConsumerConfig.configDef(),
                                AdminClientConfig.configDef(),
                                StreamsConfig.configDef())
                        .flatMap(def -> def.configKeys().values().stream())
                        .filter(key -> key.type == ConfigDef.Type.PASSWORD)
                        .map(key -> key.name)
                        .collect(Collectors.toUnmodifiableSet());
    }
}
