package io.streamlearn.state;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.ModelSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model store as a directory, the alternative to the Kafka topic: one file per version, {@code
 * model-<version>.snapshot}, holding the {@link ModelSnapshot} in Avro single-object encoding. A
 * file is written to a temporary name and renamed, so a reader never sees half a snapshot; a
 * version written again (a replay after a failure) replaces the file, the same last-write-wins as a
 * compacted topic. Unlike the topic it is not transactional: a snapshot written by an attempt that
 * later fails stays until the replay rewrites it. The directory must be shared by every task
 * manager that may run the trainer (NFS, a mounted volume).
 */
public final class FileModelStore implements ModelStore {
    private static final Logger LOG = LoggerFactory.getLogger(FileModelStore.class);
    private static final String PREFIX = "model-";
    private static final String SUFFIX = ".snapshot";
    private final Path directory;
    private final AvroSerde<ModelSnapshot> serde = AvroSerde.of(ModelSnapshot.class);

    public FileModelStore(Path directory) {
        this.directory = directory;
    }

    /** Writes one snapshot atomically, replacing an earlier file of the same version. */
    public void write(ModelSnapshot snapshot) {
        try {
            Files.createDirectories(directory);
            Path target = directory.resolve(fileName(snapshot.getModelVersion()));
            Path temporary = Files.createTempFile(directory, ".writing-", ".tmp");
            Files.write(temporary, serde.encode(snapshot));
            Files.move(
                    temporary,
                    target,
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot write model version " + snapshot.getModelVersion() + " to " + directory,
                    e);
        }
    }

    /** Deletes one version's file, if there is one. */
    public void delete(long version) {
        Path file = directory.resolve(fileName(version));
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot delete model version " + version + ": " + file, e);
        }
    }

    /** The versions the directory has files of, by their names, without reading them. */
    public List<Long> listed() {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(name -> name.startsWith(PREFIX) && name.endsWith(SUFFIX))
                    .map(name -> name.substring(PREFIX.length(), name.length() - SUFFIX.length()))
                    .filter(
                            digits ->
                                    !digits.isEmpty()
                                            && digits.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model store " + directory, e);
        }
    }

    static String fileName(long version) {
        return String.format(Locale.ROOT, "%s%020d%s", PREFIX, version, SUFFIX);
    }

    @Override
    public List<ModelSnapshot> versions() {
        if (!Files.isDirectory(directory)) {
            throw new java.util.NoSuchElementException(
                    "model store directory " + directory + " does not exist");
        }
        TreeMap<Long, ModelSnapshot> byVersion = new TreeMap<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(f -> f.toString().endsWith(SUFFIX)).toList()) {
                try {
                    ModelSnapshot snapshot = serde.decode(Files.readAllBytes(file));
                    byVersion.put(snapshot.getModelVersion(), snapshot);
                } catch (InvalidRecordException e) {
                    LOG.warn(
                            "Skipping unreadable file {} in the model store: {}",
                            file,
                            e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model store " + directory, e);
        }
        return new ArrayList<>(byVersion.values());
    }

    @Override
    public String describe() {
        return "directory " + directory;
    }

    @Override
    public void close() {}
}
