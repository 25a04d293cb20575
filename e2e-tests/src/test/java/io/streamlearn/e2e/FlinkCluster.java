package io.streamlearn.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

/**
 * A Flink session cluster of separate JVMs on 127.0.0.1: one job manager ({@code
 * StandaloneSessionClusterEntrypoint}) and task managers ({@code TaskManagerRunner}), started as
 * Flink's own scripts start them. The classpath is what a Flink distribution's {@code lib/} holds,
 * plus {@code flink-lib/} (DJL and PyTorch), for every process, as one {@code lib/} serves a real
 * cluster's job manager and task managers alike (the job manager runs the job's {@code main}, which
 * names DJL's {@code Device}). Memory flags come from the same code as {@code BashJavaUtils
 * GET_JM_RESOURCE_PARAMS} and {@code GET_TM_RESOURCE_PARAMS}.
 */
final class FlinkCluster implements AutoCloseable {
    /**
     * What Flink's default config.yaml passes to every Flink JVM on Java 17 ({@code
     * env.java.opts.all}): Flink's serializers and RPC reflect into these packages. Without {@code
     * java.util} job submission fails.
     */
    static final List<String> JAVA_17_OPENS =
            List.of(
                    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
                    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "--add-opens=java.base/java.net=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.text=ALL-UNNAMED",
                    "--add-opens=java.base/java.time=ALL-UNNAMED",
                    "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    /** DJL on a task manager: never download, one intra-op thread per operator. */
    static final List<String> DJL_PROPERTIES =
            List.of(
                    "-Dai.djl.offline=true",
                    "-Dai.djl.pytorch.num_threads=1",
                    "-Dai.djl.pytorch.num_interop_threads=1");

    private final Path dir;
    private final Path confDir;
    private final String classpath;
    private final Configuration conf;
    private final FlinkRest rest;
    private JavaProcess jobManager;
    private final Map<String, JavaProcess> taskManagers = new LinkedHashMap<>();
    private int taskManagerCount;

    private FlinkCluster(Path dir, Path confDir, String classpath, Configuration conf) {
        this.dir = dir;
        this.confDir = confDir;
        this.classpath = classpath;
        this.conf = conf;
        this.rest = new FlinkRest("http://127.0.0.1:" + conf.getString("rest.port", ""));
    }

    /** Starts a job manager and {@code taskManagers} task managers and waits for their slots. */
    static FlinkCluster start(Path dir, String classpath, Path flinkLib, int taskManagers)
            throws Exception {
        Path confDir = dir.resolve("conf");
        Files.createDirectories(confDir);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("jobmanager.rpc.address", "127.0.0.1");
        settings.put("jobmanager.rpc.port", Integer.toString(Ports.free()));
        settings.put("jobmanager.bind-host", "127.0.0.1");
        settings.put("taskmanager.bind-host", "127.0.0.1");
        settings.put("taskmanager.host", "127.0.0.1");
        settings.put("rest.address", "127.0.0.1");
        settings.put("rest.bind-address", "127.0.0.1");
        settings.put("rest.port", Integer.toString(Ports.free()));
        settings.put("jobmanager.memory.process.size", "1024m");
        settings.put("taskmanager.memory.process.size", "1280m");
        settings.put("taskmanager.memory.managed.size", "128m");
        settings.put("taskmanager.numberOfTaskSlots", "2");
        // A killed task manager is noticed within seconds: its heartbeat RPCs fail at once.
        settings.put("heartbeat.interval", "1000");
        settings.put("heartbeat.timeout", "20000");
        settings.put("restart-strategy.type", "exponential-delay");
        settings.put("restart-strategy.exponential-delay.initial-backoff", "1s");
        settings.put("restart-strategy.exponential-delay.max-backoff", "5s");
        settings.put("io.tmp.dirs", dir.resolve("tmp").toString());
        settings.put("web.upload.dir", dir.resolve("upload").toString());
        settings.put("blob.storage.directory", dir.resolve("blobs").toString());
        settings.put("pipeline.generic-types", "false");
        Files.createDirectories(dir.resolve("tmp"));
        Files.createDirectories(dir.resolve("upload"));
        try (Writer out = Files.newBufferedWriter(confDir.resolve("config.yaml"))) {
            for (Map.Entry<String, String> e : settings.entrySet()) {
                out.write(e.getKey() + ": " + e.getValue() + "\n");
            }
        }
        Configuration conf = GlobalConfiguration.loadConfiguration(confDir.toString());
        String libJars;
        try (Stream<Path> jars = Files.list(flinkLib)) {
            libJars =
                    jars.filter(p -> p.toString().endsWith(".jar"))
                            .sorted()
                            .map(Path::toString)
                            .collect(Collectors.joining(":"));
        }
        FlinkCluster cluster = new FlinkCluster(dir, confDir, classpath + ":" + libJars, conf);
        cluster.startJobManager();
        for (int i = 0; i < taskManagers; i++) {
            cluster.startTaskManager();
        }
        cluster.awaitTaskManagers(taskManagers);
        return cluster;
    }

    private void startJobManager() throws Exception {
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(conf);
        List<String> jvm = new ArrayList<>(JAVA_17_OPENS);
        jvm.addAll(split(JobManagerProcessUtils.generateJvmParametersStr(spec, conf)));
        List<String> args = new ArrayList<>(List.of("--configDir", confDir.toString()));
        args.addAll(split(JobManagerProcessUtils.generateDynamicConfigsStr(spec)));
        jobManager =
                JavaProcess.start(
                        "jobmanager",
                        classpath,
                        withLog(jvm, "jobmanager"),
                        "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                        args,
                        Map.of(),
                        dir);
        Await.until(
                () -> {
                    if (!jobManager.isAlive()) {
                        throw new IllegalStateException("job manager exited; see logs in " + dir);
                    }
                    return rest.get("/overview") != null;
                },
                Duration.ofMinutes(2),
                () -> "the job manager's REST API; see " + dir);
    }

    /** Starts one more task manager, named {@code tm-<n>} (its resource id). */
    String startTaskManager() throws Exception {
        String id = "tm-" + (++taskManagerCount);
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(conf);
        List<String> jvm = new ArrayList<>(JAVA_17_OPENS);
        jvm.addAll(DJL_PROPERTIES);
        jvm.add("-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.streamlearn.schemas");
        jvm.addAll(split(ProcessMemoryUtils.generateJvmParametersStr(spec)));
        List<String> args = new ArrayList<>(List.of("--configDir", confDir.toString()));
        args.addAll(split(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec)));
        args.addAll(List.of("-D", "taskmanager.resource-id=" + id));
        taskManagers.put(
                id,
                JavaProcess.start(
                        id,
                        classpath,
                        withLog(jvm, id),
                        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                        args,
                        Map.of("OMP_NUM_THREADS", "1"),
                        dir));
        return id;
    }

    /** Waits until {@code count} task managers are registered with the job manager. */
    void awaitTaskManagers(int count) {
        Await.until(
                () -> rest.get("/taskmanagers").get("taskmanagers").size() == count,
                Duration.ofMinutes(2),
                () -> count + " registered task managers; see logs in " + dir);
    }

    /** kill -9 of one task manager. */
    void killTaskManager(String id) throws InterruptedException {
        taskManagers.remove(id).kill();
    }

    List<String> taskManagerIds() {
        return new ArrayList<>(taskManagers.keySet());
    }

    FlinkRest rest() {
        return rest;
    }

    Path dir() {
        return dir;
    }

    private List<String> withLog(List<String> jvm, String name) {
        List<String> all = new ArrayList<>(jvm);
        all.addAll(JavaProcess.jvmArgs(dir.resolve(name + ".log")));
        return all;
    }

    private static List<String> split(String flags) {
        return Arrays.stream(flags.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    @Override
    public void close() throws InterruptedException {
        for (JavaProcess tm : taskManagers.values()) {
            tm.kill();
        }
        taskManagers.clear();
        if (jobManager != null) {
            jobManager.kill();
        }
    }

    /** For tests: the id of the task manager that runs the subtasks of the given vertex name. */
    String taskManagerRunning(String jobId, String vertexName) {
        JsonNode job = rest.get("/jobs/" + jobId);
        for (JsonNode vertex : job.get("vertices")) {
            if (vertex.get("name").asText().contains(vertexName)) {
                JsonNode subtasks =
                        rest.get("/jobs/" + jobId + "/vertices/" + vertex.get("id").asText());
                return subtasks.get("subtasks").get(0).get("taskmanager-id").asText();
            }
        }
        throw new IllegalArgumentException("no vertex named " + vertexName + " in " + job);
    }
}
