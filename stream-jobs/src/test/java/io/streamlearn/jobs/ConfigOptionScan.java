package io.streamlearn.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOption;

/**
 * The {@link ConfigOption}s declared as public static fields of the classes named {@code *Options}
 * in a package, found on the test classpath: streamlearn's own (StreamlearnOptions, FeedOptions,
 * InputOptions, DeviceOptions and whatever options class comes next) and Flink's.
 *
 * <p>{@link ConfigurationDocsTest} and {@link DeployManifestsTest} both use it, so a new options
 * class is covered by both without editing a list; the one rule is Flink's own naming convention.
 */
final class ConfigOptionScan {
    private ConfigOptionScan() {}

    /** The options of every {@code *Options} class in {@code io.streamlearn} and below. */
    static List<ConfigOption<?>> streamlearn() {
        return declaredIn("io.streamlearn");
    }

    /**
     * The options of every {@code *Options} class in {@code packageName} and below, in every
     * classpath entry (folder or jar); shaded copies of other libraries are skipped, and so is a
     * class that cannot be loaded for a missing optional dependency.
     */
    static List<ConfigOption<?>> declaredIn(String packageName) {
        String path = packageName.replace('.', '/') + '/';
        ClassLoader loader = ConfigOptionScan.class.getClassLoader();
        TreeSet<String> classNames = new TreeSet<>();
        try {
            for (URL root : Collections.list(loader.getResources(path))) {
                classNames.addAll(classesUnder(root, path));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<ConfigOption<?>> options = new ArrayList<>();
        for (String name : classNames) {
            Class<?> type;
            try {
                type = Class.forName(name, true, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                continue;
            }
            for (Field field : type.getFields()) {
                if (Modifier.isStatic(field.getModifiers())
                        && field.getType() == ConfigOption.class) {
                    try {
                        options.add((ConfigOption<?>) field.get(null));
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        return options;
    }

    private static List<String> classesUnder(URL root, String path) throws IOException {
        List<String> entries = new ArrayList<>();
        if (root.getProtocol().equals("jar")) {
            try (JarFile jar = ((JarURLConnection) root.openConnection()).getJarFile()) {
                jar.stream()
                        .map(entry -> entry.getName())
                        .filter(name -> name.startsWith(path))
                        .forEach(entries::add);
            }
        } else {
            try {
                Path dir = Path.of(root.toURI());
                try (Stream<Path> files = Files.walk(dir)) {
                    files.map(f -> path + dir.relativize(f).toString().replace('\\', '/'))
                            .forEach(entries::add);
                }
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
        }
        return entries.stream()
                .filter(name -> name.endsWith("Options.class") && !name.contains("/shaded/"))
                .map(name -> name.substring(0, name.length() - ".class".length()).replace('/', '.'))
                .toList();
    }
}
