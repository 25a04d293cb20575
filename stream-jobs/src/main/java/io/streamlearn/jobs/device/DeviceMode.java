package io.streamlearn.jobs.device;

import java.util.Locale;

/**
 * Where an operator runs its model math: {@code auto} (a GPU of its TaskManager when the engine can
 * use one, else the CPU), {@code cpu}, or {@code gpu} (a GPU or refuse to start).
 */
public enum DeviceMode {
    AUTO,
    CPU,
    GPU;

    /** The value as written in configuration files. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
