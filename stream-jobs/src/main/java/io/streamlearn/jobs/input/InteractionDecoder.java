package io.streamlearn.jobs.input;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.InvalidRecordException;
import java.io.Serializable;

/**
 * Turns the bytes of an interactions topic into {@link InteractionEvent}s: the input of the
 * recommendation feed. The counterpart of {@link EventDecoder} for metric events; a record it
 * cannot decode fails alone, with a message that becomes its dead-letter reason.
 */
public abstract class InteractionDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Decodes one record; the message of the exception is the dead-letter reason. */
    public abstract InteractionEvent decode(byte[] bytes) throws InvalidRecordException;

    /** The built-in {@link InteractionEvent} schema, single-object encoded. */
    public static InteractionDecoder builtIn() {
        return new BuiltIn();
    }

    /** The built-in {@link InteractionEvent}, single-object encoded. */
    static final class BuiltIn extends InteractionDecoder {
        private static final long serialVersionUID = 1L;
        private final AvroSerde<InteractionEvent> serde = AvroSerde.of(InteractionEvent.class);

        @Override
        public InteractionEvent decode(byte[] bytes) {
            return serde.decode(bytes);
        }
    }
}
