package io.streamlearn.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.AnomalyDetector;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class AnomalyDetectorSerializerTest {
    private static AnomalyDetector detector() {
        AnomalyDetector d =
                new AnomalyDetector(
                        new AnomalyDetector.Settings(3, 8640, 100, 300, 300, 0.01, 0.65));
        for (int i = 0; i < 500; i++) {
            d.update(Math.abs(Math.sin(i)), i * 300_000L, new float[] {(float) Math.cos(i)});
        }
        return d;
    }

    @Test
    void aDetectorRoundTripsAndCopiesAreIndependent() throws Exception {
        AnomalyDetector d = detector();
        DataOutputSerializer out = new DataOutputSerializer(64);
        AnomalyDetectorSerializer.INSTANCE.serialize(d, out);
        AnomalyDetector back =
                AnomalyDetectorSerializer.INSTANCE.deserialize(
                        new DataInputDeserializer(out.getCopyOfBuffer()));
        assertEquals(d, back);

        AnomalyDetector copy = AnomalyDetectorSerializer.INSTANCE.copy(d);
        assertNotSame(d, copy);
        copy.update(40.0, 500 * 300_000L, new float[] {0f});
        assertTrue(!copy.equals(d), "updating the copy leaves the original alone");

        // write(DataInputView, n) does not grow the buffer: size it.
        DataOutputSerializer copied = new DataOutputSerializer(out.length());
        AnomalyDetectorSerializer.INSTANCE.copy(
                new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        assertEquals(out.length(), copied.length());
    }

    @Test
    void theSnapshotRestoresTheSameSerializer() throws Exception {
        TypeSerializerSnapshot<AnomalyDetector> snapshot =
                AnomalyDetectorSerializer.INSTANCE.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        snapshot.writeSnapshot(out);
        AnomalyDetectorSerializer.Snapshot restored = new AnomalyDetectorSerializer.Snapshot();
        restored.readSnapshot(
                snapshot.getCurrentVersion(),
                new DataInputDeserializer(out.getCopyOfBuffer()),
                getClass().getClassLoader());
        assertSame(AnomalyDetectorSerializer.INSTANCE, restored.restoreSerializer());
    }
}
