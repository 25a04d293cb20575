package io.streamlearn.jobs.device;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.externalresource.ExternalResourceDriver;
import org.apache.flink.api.common.externalresource.ExternalResourceDriverFactory;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

/**
 * A stand-in for Flink's GPU plugin ({@code GPUDriverFactory} in flink-external-resource-gpu, whose
 * POM cannot be resolved from Maven Central): it reports the GPUs listed in {@code
 * external-resource.gpu.param.indexes} the way the plugin reports what its discovery script prints,
 * one {@link ExternalResourceInfo} per GPU with the property {@code index}.
 */
public final class FakeGpuDriverFactory implements ExternalResourceDriverFactory {
    static final ConfigOption<List<String>> INDEXES =
            ConfigOptions.key("indexes").stringType().asList().noDefaultValue();

    @Override
    public ExternalResourceDriver createExternalResourceDriver(Configuration config) {
        List<String> indexes = config.get(INDEXES);
        return amount -> {
            Set<Gpu> gpus = new LinkedHashSet<>();
            for (String index : indexes.subList(0, (int) Math.min(amount, indexes.size()))) {
                gpus.add(new Gpu(index));
            }
            return gpus;
        };
    }

    private record Gpu(String index) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return "index".equals(key) ? Optional.of(index) : Optional.empty();
        }

        @Override
        public Collection<String> getKeys() {
            return List.of("index");
        }
    }
}
