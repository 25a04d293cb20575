package io.streamlearn.jobs.input;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.InvalidRecordException;
import java.io.Serializable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;

/**
 * Turns the bytes of an interactions topic into {@link InteractionEvent}s: the input of the
 * recommendation feed. The counterpart of {@link EventDecoder} for metric events: the built-in
 * schema, or a user's own with named fields for user, item, time and (optionally) kind, checked
 * against the schema at start-up. A record it cannot decode fails alone, with a message that
 * becomes its dead-letter reason.
 */
public abstract class InteractionDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The user field of an interaction when {@link InputOptions#ENTITY_FIELD} is unset. */
    public static final String DEFAULT_USER_FIELD = "userId";

    /** Decodes one record; the message of the exception is the dead-letter reason. */
    public abstract InteractionEvent decode(byte[] bytes) throws InvalidRecordException;

    /** The built-in {@link InteractionEvent} schema, single-object encoded. */
    public static InteractionDecoder builtIn() {
        return new BuiltIn();
    }

    /**
     * The decoder the configuration asks for: the built-in schema without {@link
     * InputOptions#SCHEMA_FILE}, else the user's schema with {@link InputOptions#ENTITY_FIELD} (the
     * user), {@link InputOptions#ITEM_FIELD}, {@link InputOptions#TIME_FIELD} and {@link
     * InputOptions#KIND_FIELD}, validated against the schema.
     *
     * @throws IllegalArgumentException naming the key and the field of a mapping that does not fit
     *     the schema
     */
    public static InteractionDecoder from(Configuration conf) {
        return UserSchema.configured(conf)
                .<InteractionDecoder>map(
                        schema ->
                                new Mapped(
                                        schema,
                                        conf.getOptional(InputOptions.ENTITY_FIELD)
                                                .orElse(DEFAULT_USER_FIELD),
                                        conf.get(InputOptions.ITEM_FIELD),
                                        conf.get(InputOptions.TIME_FIELD),
                                        conf.get(InputOptions.KIND_FIELD)))
                .orElseGet(InteractionDecoder::builtIn);
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

    /** A user's schema and field mapping. */
    static final class Mapped extends InteractionDecoder {
        private static final long serialVersionUID = 1L;
        private final UserSchema schema;
        private final String userField;
        private final String itemField;
        private final String timeField;
        private final String kindField;

        /**
         * @param kindField null when the schema has none: every interaction is a view
         */
        Mapped(
                UserSchema schema,
                String userField,
                String itemField,
                String timeField,
                String kindField) {
            this.schema = schema;
            this.userField = userField;
            this.itemField = itemField;
            this.timeField = timeField;
            this.kindField = kindField == null || kindField.isBlank() ? null : kindField;
            schema.expectId(InputOptions.ENTITY_FIELD.key(), userField);
            schema.expectId(InputOptions.ITEM_FIELD.key(), itemField);
            schema.expectTime(InputOptions.TIME_FIELD.key(), timeField);
            if (this.kindField != null) {
                schema.expect(
                        InputOptions.KIND_FIELD.key(),
                        this.kindField,
                        "a string or enum",
                        Schema.Type.STRING,
                        Schema.Type.ENUM);
            }
        }

        @Override
        public InteractionEvent decode(byte[] bytes) {
            GenericRecord record = schema.read(bytes);
            InteractionEvent.Builder event =
                    InteractionEvent.newBuilder()
                            .setUserId(UserSchema.id(record, userField))
                            .setItemId(UserSchema.id(record, itemField))
                            .setEventTime(schema.time(record, timeField));
            if (kindField != null) {
                Object kind = UserSchema.value(record, kindField);
                if (kind != null) {
                    event.setKind(kind.toString());
                }
            }
            return event.build();
        }
    }
}
