package io.streamlearn.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.state.ModelStoreRecords;
import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.FallbackKey;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Reads every YAML manifest in deploy/ and checks that each configuration key in it is one the code
 * defines, and that its value parses as the key's type: Flink keys (a FlinkDeployment's
 * flinkConfiguration and job arguments) against Flink's ConfigOptions, found by reflection,
 * streamlearn keys against every streamlearn options class ({@link ConfigOptionScan}), the feed
 * applications' Kafka Streams keys and the KafkaTopics' topic configs against Kafka's. A typo fails
 * the build instead of being ignored by the cluster.
 */
class DeployManifestsTest {
    private static final Path DEPLOY = Path.of("..", "deploy");

    /**
     * Parameters of Flink's GPU driver ({@code GPUDriverOptions} in flink-external-resource-gpu,
     * which is not resolvable from Maven Central): {@code external-resource.<name>.param.<param>}.
     */
    private static final Set<String> GPU_DRIVER_PARAMS =
            Set.of("discovery-script.path", "discovery-script.args");

    private static final Pattern EXTERNAL_RESOURCE =
            Pattern.compile("external-resource\\.([^.]+)\\.(.+)");

    private static final Map<String, ConfigOption<?>> FLINK =
            byKey(ConfigOptionScan.declaredIn("org.apache.flink"));
    private static final List<Pattern> FLINK_TEMPLATES = templates(FLINK.keySet());
    private static final Map<String, ConfigOption<?>> STREAMLEARN =
            byKey(ConfigOptionScan.streamlearn());

    @Test
    void everyKeyInTheManifestsIsDefinedAndItsValueParses() throws IOException {
        List<Path> manifests;
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            manifests =
                    files.filter(
                                    f ->
                                            f.toString().endsWith(".yaml")
                                                    || f.toString().endsWith(".yml"))
                            .sorted()
                            .toList();
        }
        Checker checker = new Checker();
        for (Path manifest : manifests) {
            checker.check(DEPLOY.relativize(manifest).toString(), Files.readString(manifest));
        }
        assertEquals(List.of(), checker.problems);
        assertTrue(
                checker.flinkKeys > 20 && checker.streamlearnKeys > 20 && checker.otherKeys > 5,
                "read the keys: "
                        + checker.flinkKeys
                        + " Flink, "
                        + checker.streamlearnKeys
                        + " streamlearn, "
                        + checker.otherKeys
                        + " Kafka");
    }

    @Test
    void aTypoOrABadValueIsCaught() {
        String manifest =
                """
                apiVersion: flink.apache.org/v1beta1
                kind: FlinkDeployment
                spec:
                  flinkConfiguration:
                    taskmanager.numberOfTaskSlot: "2"
                    execution.checkpointing.dir: s3://bucket/checkpoints
                    external-resources: gpu
                    external-resource.gpu.amount: "1"
                    external-resource.gpus.amount: "1"
                    external-resource.gpu.param.discovery-script.pth: x.sh
                  job:
                    args: [--streamlearn.trainer.devise, gpu, --streamlearn.trainer.device, gpus]
                ---
                kind: ConfigMap
                metadata:
                  labels:
                    app.kubernetes.io/component: feed
                data:
                  feed.properties: |
                    streamlearn.feed.http-port=8090
                    num.stream.thread=1
                ---
                kind: KafkaTopic
                spec:
                  config:
                    cleanup.polcy: compact
                """;
        Checker checker = new Checker();
        checker.check("typos.yaml", manifest);
        assertEquals(
                List.of(
                        "typos.yaml: taskmanager.numberOfTaskSlot is not a Flink configuration key",
                        "typos.yaml: external-resource.gpus.amount names resource 'gpus', which"
                                + " external-resources does not list",
                        "typos.yaml: external-resource.gpu.param.discovery-script.pth is not a"
                                + " parameter of Flink's GPU driver",
                        "typos.yaml: streamlearn.trainer.devise is not a streamlearn key",
                        "typos.yaml: streamlearn.trainer.device: 'gpus' does not parse",
                        "typos.yaml: num.stream.thread is not a Kafka Streams key",
                        "typos.yaml: cleanup.polcy is not a Kafka topic config"),
                checker.problems);
    }

    /**
     * Every topic the job and the feeds use, by its default name, has a KafkaTopic (a cluster with
     * automatic topic creation off would otherwise stall the job), and the models topic accepts a
     * snapshot chunk (the broker's default does, where the topic sets none).
     */
    @Test
    void everyTopicHasAKafkaTopicThatFitsWhatTheJobWrites() throws IOException {
        Map<String, Map<?, ?>> topics = new HashMap<>();
        for (Object document :
                new Load(LoadSettings.builder().build())
                        .loadAllFromString(
                                Files.readString(DEPLOY.resolve("kubernetes/topics.yaml")))) {
            if (document instanceof Map<?, ?> resource
                    && "KafkaTopic".equals(resource.get("kind"))) {
                topics.put(String.valueOf(at(resource, "metadata").get("name")), resource);
            }
        }
        List<String> missing = new ArrayList<>();
        STREAMLEARN.values().stream()
                .filter(option -> option.key().startsWith("streamlearn.topic."))
                .map(option -> String.valueOf(option.defaultValue()))
                .filter(name -> !topics.containsKey(name))
                .sorted()
                .forEach(missing::add);
        assertEquals(List.of(), missing, "topics without a KafkaTopic in topics.yaml");

        long chunk =
                StreamlearnOptions.SNAPSHOT_CHUNK_SIZE.defaultValue().getBytes()
                        + ModelStoreRecords.CHUNK_OVERHEAD_BYTES;
        Object size =
                at(topics.get(StreamlearnOptions.MODELS_TOPIC.defaultValue()), "spec", "config")
                        .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        assertTrue(
                size == null || Long.parseLong(size.toString()) >= chunk,
                "the models topic needs max.message.bytes of at least "
                        + chunk
                        + " (streamlearn.model-store.chunk-size and the framing), has "
                        + size);
    }

    /** Collects what is wrong with the keys of one manifest after another. */
    private static final class Checker {
        final List<String> problems = new ArrayList<>();
        int flinkKeys;
        int streamlearnKeys;
        int otherKeys;
        private String file;

        void check(String file, String yaml) {
            this.file = file;
            for (Object document :
                    new Load(LoadSettings.builder().build()).loadAllFromString(yaml)) {
                if (document instanceof Map<?, ?> resource) {
                    checkResource(resource);
                }
            }
        }

        private void checkResource(Map<?, ?> resource) {
            switch (String.valueOf(resource.get("kind"))) {
                case "FlinkDeployment" -> {
                    Map<String, String> conf = flatten(at(resource, "spec", "flinkConfiguration"));
                    conf.putAll(jobArguments(at(resource, "spec", "job")));
                    checkJobConfig(conf);
                }
                case "ConfigMap" -> {
                    Object component =
                            at(resource, "metadata", "labels").get("app.kubernetes.io/component");
                    at(resource, "data")
                            .forEach(
                                    (name, text) -> {
                                        if (String.valueOf(name).endsWith(".properties")) {
                                            checkProperties(name + "", component, text + "");
                                        }
                                    });
                }
                case "KafkaTopic" -> {
                    Set<String> topicConfigs = constants(TopicConfig.class);
                    for (Object key : at(resource, "spec", "config").keySet()) {
                        otherKeys++;
                        if (!topicConfigs.contains(key.toString())) {
                            problem(key + " is not a Kafka topic config");
                        }
                    }
                }
                default -> {}
            }
        }

        private void checkProperties(String name, Object component, String text) {
            Properties properties = new Properties();
            try {
                properties.load(new StringReader(text));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            Map<String, String> conf = new LinkedHashMap<>();
            properties.stringPropertyNames().stream()
                    .sorted()
                    .forEach(k -> conf.put(k, properties.getProperty(k)));
            if ("job".equals(component)) {
                checkJobConfig(conf);
            } else if ("feed".equals(component)) {
                for (Map.Entry<String, String> entry : conf.entrySet()) {
                    if (entry.getKey().startsWith("streamlearn.")) {
                        checkStreamlearn(entry.getKey(), entry.getValue());
                    } else {
                        otherKeys++;
                        if (!isStreamsKey(entry.getKey())) {
                            problem(entry.getKey() + " is not a Kafka Streams key");
                        }
                    }
                }
            } else {
                problem(
                        name
                                + " is in a ConfigMap without the label"
                                + " app.kubernetes.io/component: job (Flink and streamlearn keys)"
                                + " or feed (Kafka Streams and streamlearn keys)");
            }
        }

        /** A Flink job's configuration: Flink keys and streamlearn keys. */
        private void checkJobConfig(Map<String, String> conf) {
            Set<String> resources = new HashSet<>();
            String declared = conf.get("external-resources");
            if (declared != null) {
                resources.addAll(List.of(declared.split("[;,]\\s*")));
            }
            for (Map.Entry<String, String> entry : conf.entrySet()) {
                String key = entry.getKey();
                if (key.startsWith("streamlearn.")) {
                    checkStreamlearn(key, entry.getValue());
                    continue;
                }
                flinkKeys++;
                ConfigOption<?> option = FLINK.get(key);
                Matcher resource = EXTERNAL_RESOURCE.matcher(key);
                if (option != null) {
                    parses(key, entry.getValue(), option);
                } else if (resource.matches()) {
                    if (!resources.contains(resource.group(1))) {
                        problem(
                                key
                                        + " names resource '"
                                        + resource.group(1)
                                        + "', which external-resources does not list");
                    } else if (resource.group(2).startsWith("param.")) {
                        if (!GPU_DRIVER_PARAMS.contains(resource.group(2).substring(6))) {
                            problem(key + " is not a parameter of Flink's GPU driver");
                        }
                    } else if (FLINK_TEMPLATES.stream().noneMatch(t -> t.matcher(key).matches())) {
                        problem(key + " is not a Flink configuration key");
                    }
                } else {
                    problem(key + " is not a Flink configuration key");
                }
            }
        }

        private void checkStreamlearn(String key, String value) {
            streamlearnKeys++;
            ConfigOption<?> option = STREAMLEARN.get(key);
            if (option == null) {
                problem(key + " is not a streamlearn key");
            } else {
                parses(key, value, option);
            }
        }

        private void parses(String key, String value, ConfigOption<?> option) {
            try {
                Configuration.fromMap(Map.of(key, value)).get(option);
            } catch (RuntimeException e) {
                problem(key + ": '" + value + "' does not parse");
            }
        }

        private void problem(String what) {
            problems.add(file + ": " + what);
        }
    }

    /** The {@code --key value} arguments of a job whose key has a dot: configuration overrides. */
    private static Map<String, String> jobArguments(Map<?, ?> job) {
        Map<String, String> conf = new LinkedHashMap<>();
        if (job.get("args") instanceof List<?> args) {
            for (int i = 0; i + 1 < args.size(); i++) {
                String arg = String.valueOf(args.get(i));
                if (arg.startsWith("--") && arg.contains(".")) {
                    conf.put(arg.substring(2), String.valueOf(args.get(++i)));
                }
            }
        }
        return conf;
    }

    private static boolean isStreamsKey(String key) {
        if (StreamsConfig.configDef().names().contains(key)) {
            return true;
        }
        Map<String, Set<String>> prefixed =
                Map.of(
                        "main.consumer.", ConsumerConfig.configNames(),
                        "restore.consumer.", ConsumerConfig.configNames(),
                        "global.consumer.", ConsumerConfig.configNames(),
                        "consumer.", ConsumerConfig.configNames(),
                        "producer.", ProducerConfig.configNames(),
                        "admin.", AdminClientConfig.configNames(),
                        "topic.", constants(TopicConfig.class));
        for (Map.Entry<String, Set<String>> entry : prefixed.entrySet()) {
            if (key.startsWith(entry.getKey())
                    && entry.getValue().contains(key.substring(entry.getKey().length()))) {
                return true;
            }
        }
        return false;
    }

    /** The values of a class's public static String constants named *_CONFIG. */
    private static Set<String> constants(Class<?> type) {
        Set<String> names = new HashSet<>();
        for (Field field : type.getFields()) {
            if (Modifier.isStatic(field.getModifiers())
                    && field.getType() == String.class
                    && field.getName().endsWith("_CONFIG")) {
                try {
                    names.add((String) field.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return names;
    }

    /** Every option by its key and by its fallback keys that are not deprecated. */
    private static Map<String, ConfigOption<?>> byKey(List<ConfigOption<?>> options) {
        Map<String, ConfigOption<?>> byKey = new HashMap<>();
        for (ConfigOption<?> option : options) {
            byKey.put(option.key(), option);
            for (FallbackKey fallback : option.fallbackKeys()) {
                if (!fallback.isDeprecated()) {
                    byKey.putIfAbsent(fallback.getKey(), option);
                }
            }
        }
        return byKey;
    }

    /** Keys such as external-resource.&lt;resource_name&gt;.amount, as patterns. */
    private static List<Pattern> templates(Set<String> keys) {
        List<Pattern> templates = new ArrayList<>();
        for (String key : keys) {
            if (key.contains("<")) {
                templates.add(
                        Pattern.compile(
                                Pattern.quote(key).replaceAll("<[^>]+>", "\\\\E[^.]+\\\\Q")));
            }
        }
        return templates;
    }

    /** Nested YAML maps as dotted keys, values as strings (Flink's config.yaml reads both). */
    private static Map<String, String> flatten(Map<?, ?> map) {
        Map<String, String> flat = new LinkedHashMap<>();
        map.forEach(
                (key, value) -> {
                    if (value instanceof Map<?, ?> nested) {
                        flatten(nested).forEach((k, v) -> flat.put(key + "." + k, v));
                    } else {
                        flat.put(String.valueOf(key), String.valueOf(value));
                    }
                });
        return flat;
    }

    /** The map at a path of a YAML document; empty where the path ends early. */
    private static Map<?, ?> at(Map<?, ?> document, String... path) {
        Map<?, ?> map = document;
        for (String step : path) {
            if (!(map.get(step) instanceof Map<?, ?> next)) {
                return Map.of();
            }
            map = next;
        }
        return map;
    }
}
