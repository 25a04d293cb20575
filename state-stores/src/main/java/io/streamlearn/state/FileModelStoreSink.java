package io.streamlearn.state;

import io.streamlearn.schemas.ModelSnapshot;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes each snapshot to a {@link FileModelStore} as it arrives. At least once: after a failure
 * the replayed versions are written again, each replacing its earlier file. After each it deletes
 * the files of versions past {@code streamlearn.model-store.keep-versions} ({@link
 * ModelStoreRetention}); the directory's listing at start counts as kept, so a restarted writer
 * goes on where it was.
 */
public final class FileModelStoreSink implements Sink<ModelSnapshot> {
    private static final long serialVersionUID = 1L;
    private final String directory;
    private final int keepVersions;

    /**
     * @param keepVersions the newest versions to keep (0: all)
     */
    public FileModelStoreSink(String directory, int keepVersions) {
        this.directory = directory;
        this.keepVersions = keepVersions;
    }

    @Override
    public SinkWriter<ModelSnapshot> createWriter(WriterInitContext context) {
        FileModelStore store = new FileModelStore(Path.of(directory));
        ModelStoreRetention retention = new ModelStoreRetention(keepVersions);
        store.listed().forEach(version -> retention.restore(Map.of(version, 0)));
        return new SinkWriter<>() {
            @Override
            public void write(ModelSnapshot snapshot, Context context) {
                store.write(snapshot);
                retention
                        .written(snapshot.getModelVersion(), 0, snapshot.getServingVersion())
                        .keySet()
                        .forEach(store::delete);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
