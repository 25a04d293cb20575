package io.streamlearn.jobs.device;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.flink.api.common.externalresource.ExternalResourceDriverFactory;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ConfigurationUtils;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.plugin.PluginManager;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint;
import org.apache.flink.runtime.taskexecutor.TaskManagerRunner;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A Flink session cluster inside the test JVM, a JobManager and one TaskManager with two (fake)
 * GPUs, started the way {@code jobmanager.sh} and {@code taskmanager.sh} start them.
 *
 * <p>Why not a MiniCluster: MiniCluster starts its TaskManagers with no external resources whatever
 * the configuration says ({@code ExternalResourceInfoProvider.NO_EXTERNAL_RESOURCES}), so operators
 * there never see a GPU. A {@link TaskManagerRunner} reads {@code external-resources} and asks the
 * resource's driver, as on a real cluster; its plugin manager holds only the GPU driver, as {@code
 * plugins/external-resource-gpu/} would.
 */
final class GpuTaskManagerCluster implements AutoCloseable {
    private final StandaloneSessionClusterEntrypoint jobManager;
    private final TaskManagerRunner taskManager;
    private final int restPort;

    private GpuTaskManagerCluster(
            StandaloneSessionClusterEntrypoint jobManager, TaskManagerRunner taskManager) {
        this.jobManager = jobManager;
        this.taskManager = taskManager;
        this.restPort = jobManager.getRestPort();
    }

    /**
     * Starts the cluster.
     *
     * @param gpuIndexes what the TaskManager's GPU driver reports, e.g. {@code List.of("5", "2")}
     * @param reporter where every metric of the cluster goes
     * @param workDir a folder for the processes' files
     */
    static GpuTaskManagerCluster start(
            List<String> gpuIndexes, InMemoryReporter reporter, Path workDir) throws Exception {
        Configuration conf = new Configuration();
        conf.set(JobManagerOptions.ADDRESS, "127.0.0.1");
        conf.set(JobManagerOptions.PORT, 0);
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_PORT, "0");
        conf.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
        conf.set(JobManagerOptions.SLOT_REQUEST_TIMEOUT, Duration.ofSeconds(30));
        conf.set(CoreOptions.TMP_DIRS, workDir.toString());
        conf.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        // Two slots of which the trainer's GPU slot (1 core, 256 MB heap, 1 GPU) takes one.
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, 2);
        conf.set(TaskManagerOptions.CPU_CORES, 2.0);
        conf.set(TaskManagerOptions.TASK_HEAP_MEMORY, MemorySize.parse("768m"));
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("32m"));
        conf.set(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST, List.of("gpu"));
        conf.setString("external-resource.gpu.amount", String.valueOf(gpuIndexes.size()));
        conf.setString(
                "external-resource.gpu.driver-factory.class", FakeGpuDriverFactory.class.getName());
        conf.setString("external-resource.gpu.param.indexes", String.join(";", gpuIndexes));
        reporter.addToConfiguration(conf);

        StandaloneSessionClusterEntrypoint jobManager =
                new StandaloneSessionClusterEntrypoint(conf);
        jobManager.startCluster();
        TaskManagerRunner taskManager = null;
        try {
            Configuration tmConf = new Configuration(conf);
            tmConf.set(JobManagerOptions.PORT, jobManager.getRpcPort());
            // What taskmanager.sh does before it starts the JVM: resolve every memory size.
            tmConf.addAll(
                    Configuration.fromMap(
                            ConfigurationUtils.parseTmResourceDynamicConfigs(
                                    TaskExecutorProcessUtils.generateDynamicConfigsStr(
                                            TaskExecutorProcessUtils.processSpecFromConfig(
                                                    tmConf)))));
            taskManager =
                    new TaskManagerRunner(
                            tmConf,
                            new GpuPluginOnly(),
                            TaskManagerRunner::createTaskExecutorService);
            taskManager.start();
            return new GpuTaskManagerCluster(jobManager, taskManager);
        } catch (Exception e) {
            if (taskManager != null) {
                taskManager.close();
            }
            jobManager.closeAsync().get();
            throw e;
        }
    }

    /** An environment that submits to this cluster; the test's classes are the job's classes. */
    StreamExecutionEnvironment environment(Configuration jobConfig) {
        return StreamExecutionEnvironment.createRemoteEnvironment("127.0.0.1", restPort, jobConfig);
    }

    @Override
    public void close() throws Exception {
        try {
            taskManager.close();
        } finally {
            jobManager.closeAsync().get();
        }
    }

    /** The TaskManager's plugins: the GPU driver, nothing else. */
    private static final class GpuPluginOnly implements PluginManager {
        @Override
        @SuppressWarnings("unchecked")
        public <P> Iterator<P> load(Class<P> service) {
            if (service == ExternalResourceDriverFactory.class) {
                return List.of((P) new FakeGpuDriverFactory()).iterator();
            }
            return Collections.emptyIterator();
        }
    }
}
