package io.streamlearn.jobs.feeds;

import io.streamlearn.schemas.AvroSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka Streams serde over {@link AvroSerde}: the same single-object encoding the Flink job
 * writes. Bytes that do not decode throw, so the application's deserialization handler sends them
 * to the dead-letter topic with the reason.
 */
public final class AvroStreamsSerde<T extends SpecificRecord> implements Serde<T> {
    private final AvroSerde<T> avro;

    private AvroStreamsSerde(AvroSerde<T> avro) {
        this.avro = avro;
    }

    public static <T extends SpecificRecord> AvroStreamsSerde<T> of(Class<T> type) {
        return new AvroStreamsSerde<>(AvroSerde.of(type));
    }

    @Override
    public Serializer<T> serializer() {
        return (topic, data) -> data == null ? null : avro.encode(data);
    }

    @Override
    public Deserializer<T> deserializer() {
        return (topic, bytes) -> bytes == null ? null : avro.decode(bytes);
    }
}
