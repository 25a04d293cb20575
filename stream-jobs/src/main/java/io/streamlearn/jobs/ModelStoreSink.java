package io.streamlearn.jobs;

import io.streamlearn.schemas.ModelSnapshot;
import java.util.function.UnaryOperator;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;

/**
 * The end of the trainer's snapshot stream: the operators that write each snapshot to the
 * configured model store ({@link ModelStores#sink}). A {@code Sink<ModelSnapshot>} is not enough:
 * the Kafka store writes a snapshot larger than a chunk as several records, and a Kafka sink writes
 * one record per element, so that store puts its own splitting operator in front of its sink.
 */
@FunctionalInterface
public interface ModelStoreSink {

    /**
     * Adds the store's operators after {@code snapshots}; the caller sets the returned sink's uid,
     * name and parallelism.
     *
     * @param uid the stable uid of one of the store's operators, from its name
     * @param name the display name of one of the store's operators
     */
    DataStreamSink<?> attach(
            DataStream<ModelSnapshot> snapshots,
            UnaryOperator<String> uid,
            UnaryOperator<String> name);
}
