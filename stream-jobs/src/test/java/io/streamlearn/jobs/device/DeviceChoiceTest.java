package io.streamlearn.jobs.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class DeviceChoiceTest {
    private static final String KEY = "streamlearn.trainer.device";

    @Test
    void aUsableGpuIsUsedInAutoAndGpuMode() {
        for (DeviceMode mode : new DeviceMode[] {DeviceMode.AUTO, DeviceMode.GPU}) {
            DeviceChoice choice = DeviceChoice.resolve(KEY, mode, OptionalInt.of(1), 2);
            assertEquals(Device.gpu(1), choice.device());
            assertEquals(OptionalInt.of(1), choice.assignedGpu());
        }
    }

    @Test
    void cpuModeNeverUsesTheGpu() {
        DeviceChoice choice = DeviceChoice.resolve(KEY, DeviceMode.CPU, OptionalInt.of(0), 1);
        assertEquals(Device.cpu(), choice.device());
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhy() {
        DeviceChoice noGpu = DeviceChoice.resolve(KEY, DeviceMode.AUTO, OptionalInt.empty(), 0);
        assertEquals(Device.cpu(), noGpu.device());
        assertTrue(noGpu.reason().contains("reports no GPU"), noGpu.reason());

        DeviceChoice noCuda = DeviceChoice.resolve(KEY, DeviceMode.AUTO, OptionalInt.of(1), 0);
        assertEquals(Device.cpu(), noCuda.device());
        assertEquals(OptionalInt.of(1), noCuda.assignedGpu(), "the assigned GPU is still told");
        assertTrue(noCuda.reason().contains("no CUDA device"), noCuda.reason());

        DeviceChoice hidden = DeviceChoice.resolve(KEY, DeviceMode.AUTO, OptionalInt.of(3), 2);
        assertEquals(Device.cpu(), hidden.device());
        assertTrue(hidden.reason().contains("not among the engine's 2"), hidden.reason());
    }

    @Test
    void gpuModeRefusesWithTheKeyAndTheCause() {
        var noGpu =
                assertThrows(
                        IllegalStateException.class,
                        () -> DeviceChoice.resolve(KEY, DeviceMode.GPU, OptionalInt.empty(), 4));
        assertTrue(noGpu.getMessage().startsWith(KEY + " is gpu"), noGpu.getMessage());
        assertTrue(noGpu.getMessage().contains("reports no GPU"), noGpu.getMessage());

        var noCuda =
                assertThrows(
                        IllegalStateException.class,
                        () -> DeviceChoice.resolve(KEY, DeviceMode.GPU, OptionalInt.of(0), 0));
        assertTrue(noCuda.getMessage().contains("no CUDA device"), noCuda.getMessage());
    }
}
