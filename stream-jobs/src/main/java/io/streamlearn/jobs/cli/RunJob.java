package io.streamlearn.jobs.cli;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.Jobs;
import io.streamlearn.jobs.KafkaClientProperties;
import io.streamlearn.state.DurableState;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The entry point of {@code streamlearn-job.jar}: what {@code flink run} or the REST API ({@code
 * /jars/{id}/run}) calls on a cluster, and what {@code streamlearn run} calls locally. The model's
 * task picks the job ({@link Jobs}).
 *
 * <p>Arguments: {@code --config job.properties} and any number of {@code --<key> <value>} pairs
 * whose key holds a dot ({@code --streamlearn.kafka.bootstrap-servers 10.0.0.5:9092}); a pair
 * overrides the file. Kafka client keys ({@code streamlearn.kafka.properties.*}) that hold secrets
 * are kept out of the configuration Flink shows ({@link KafkaClientProperties#withoutSecrets}). The
 * job keeps its state durably by default ({@link DurableState}). Before it starts, it checks that
 * Kafka accepts the client settings and that the models topic takes the largest snapshot the
 * settings allow ({@link Jobs#checkKafka}); while it runs, each failure it restarts from is logged
 * once, with its root cause ({@link RestartLog}). Errors are exceptions naming the argument, never
 * {@code System.exit}: on a cluster this runs inside the job manager.
 */
public final class RunJob {
    private RunJob() {}

    public static void main(String[] args) throws Exception {
        Configuration given = configuration(args);
        // Flink shows the job's configuration in its web UI: Kafka secrets reach the clients
        // through the settings, never through that configuration.
        Configuration shown = KafkaClientProperties.withoutSecrets(given);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(shown);
        Configuration conf = DurableState.withDefaults(shown, env.getConfiguration());
        env.configure(conf);
        Configuration withSecrets = new Configuration(conf);
        withSecrets.addAll(given);
        JobSettings settings = JobSettings.from(withSecrets);
        Jobs.checkKafka(settings);
        Jobs.buildWithKafka(env, settings);
        env.registerJobListener(new RestartLog(conf));
        env.execute(conf.getOptional(PipelineOptions.NAME).orElse("streamlearn"));
    }

    /** The job's configuration from {@code --config file} and {@code --key value} arguments. */
    static Configuration configuration(String[] args) throws IOException {
        Map<String, String> map = new HashMap<>();
        Map<String, String> overrides = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException(
                        "expected --config <file> or --<key> <value>, got '" + arg + "'");
            }
            String name = arg.substring(2);
            String value = args[++i];
            if (name.equals("config")) {
                map.putAll(load(Path.of(value)));
            } else if (name.contains(".")) {
                overrides.put(name, value);
            } else {
                throw new IllegalArgumentException(
                        "unknown argument '"
                                + arg
                                + "': give --config <file> or a configuration key such as"
                                + " --streamlearn.kafka.bootstrap-servers");
            }
        }
        map.putAll(overrides);
        return Configuration.fromMap(map);
    }

    /** A properties file of streamlearn.* (and Flink) keys. */
    static Map<String, String> load(Path file) throws IOException {
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            properties.load(in);
        }
        Map<String, String> map = new HashMap<>();
        properties.forEach((k, v) -> map.put(k.toString(), v.toString()));
        return map;
    }
}
