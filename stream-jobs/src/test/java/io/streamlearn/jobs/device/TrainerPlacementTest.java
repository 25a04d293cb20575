package io.streamlearn.jobs.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.Jobs;
import io.streamlearn.jobs.StreamlearnOptions;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.resources.ExternalResource;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.clusterframework.types.ResourceProfile;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

/** Where the job's operators go: the slot-sharing groups and what their slots ask for. */
class TrainerPlacementTest {

    /** Operator name → slot-sharing group of the forecasting job built with these settings. */
    private static StreamGraph graph(DeviceMode trainer) {
        Configuration conf = new Configuration();
        conf.set(StreamlearnOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9");
        conf.set(DeviceOptions.TRAINER_DEVICE, trainer);
        JobSettings settings = JobSettings.from(conf);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(4);
        Jobs.buildWithKafka(env, settings);
        return env.getStreamGraph();
    }

    private static Map<String, String> groups(StreamGraph graph) {
        Map<String, String> groups = new TreeMap<>();
        for (StreamNode node : graph.getStreamNodes()) {
            groups.put(node.getOperatorName(), node.getSlotSharingGroup());
        }
        return groups;
    }

    @Test
    void inGpuModeTheTrainerHasOneGpuSlotOfItsOwn() {
        StreamGraph graph = graph(DeviceMode.GPU);
        Map<String, String> groups = groups(graph);
        assertEquals(DeviceSettings.TRAINER_GPU_GROUP, groups.get("trainer"), groups.toString());
        assertEquals("default", groups.get("predictor"), groups.toString());
        assertEquals("default", groups.get("sequence state"), groups.toString());

        ResourceProfile slot =
                graph.getSlotSharingGroupResource(DeviceSettings.TRAINER_GPU_GROUP).orElseThrow();
        assertEquals(
                new ExternalResource(DeviceChoice.GPU_RESOURCE, 1.0),
                slot.getExtendedResources().get(DeviceChoice.GPU_RESOURCE));
        assertEquals(1.0, slot.getCpuCores().getValue().doubleValue());

        // The other group has a size too, without a GPU: sizeless, it could take the GPU slot.
        ResourceProfile cpuSlot =
                graph.getSlotSharingGroupResource(DeviceSettings.DEFAULT_GROUP).orElseThrow();
        assertEquals(Map.of(), cpuSlot.getExtendedResources());
        assertEquals(1.0, cpuSlot.getCpuCores().getValue().doubleValue());
        assertEquals(MemorySize.ofMebiBytes(128), cpuSlot.getManagedMemory());

        // Every operator of the group runs once, so the job asks for exactly one GPU slot.
        for (StreamNode node : graph.getStreamNodes()) {
            if (DeviceSettings.TRAINER_GPU_GROUP.equals(node.getSlotSharingGroup())) {
                assertEquals(1, node.getParallelism(), node.getOperatorName());
            }
        }
    }

    @Test
    void autoAndCpuModesAskForNoGpu() {
        for (DeviceMode mode : new DeviceMode[] {DeviceMode.AUTO, DeviceMode.CPU}) {
            StreamGraph graph = graph(mode);
            assertTrue(
                    groups(graph).values().stream().allMatch("default"::equals),
                    mode + ": " + groups(graph));
            assertTrue(
                    graph.getSlotSharingGroupResource(DeviceSettings.DEFAULT_GROUP).isEmpty(),
                    mode + ": slots of the size the TaskManagers configure");
        }
    }

    @Test
    void slotSettingsAreValidated() {
        Configuration conf = new Configuration();
        conf.set(DeviceOptions.TRAINER_GPU_SLOT_CPU_CORES, 0.0);
        var e = assertThrows(IllegalArgumentException.class, () -> DeviceSettings.from(conf));
        assertTrue(e.getMessage().contains("streamlearn.trainer.gpu-slot.cpu-cores"));
        Configuration bad = Configuration.fromMap(Map.of("streamlearn.trainer.device", "gpus"));
        var parse = assertThrows(IllegalArgumentException.class, () -> DeviceSettings.from(bad));
        assertTrue(parse.getMessage().contains("streamlearn.trainer.device"), parse.getMessage());
    }
}
