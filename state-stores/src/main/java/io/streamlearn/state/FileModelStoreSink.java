package io.streamlearn.state;

import io.streamlearn.schemas.ModelSnapshot;
import java.nio.file.Path;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes each snapshot to a {@link FileModelStore} as it arrives. At least once: after a failure
 * the replayed versions are written again, each replacing its earlier file.
 */
public final class FileModelStoreSink implements Sink<ModelSnapshot> {
    private static final long serialVersionUID = 1L;
    private final String directory;

    public FileModelStoreSink(String directory) {
        this.directory = directory;
    }

    @Override
    public SinkWriter<ModelSnapshot> createWriter(WriterInitContext context) {
        FileModelStore store = new FileModelStore(Path.of(directory));
        return new SinkWriter<>() {
            @Override
            public void write(ModelSnapshot snapshot, Context context) {
                store.write(snapshot);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
