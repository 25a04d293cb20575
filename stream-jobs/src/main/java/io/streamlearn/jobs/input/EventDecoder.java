package io.streamlearn.jobs.input;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;

/**
 * Turns the bytes of an events topic into {@link MetricEvent}s: either the built-in schema, or a
 * user's own schema with named fields for entity, time and values. The mapping is checked against
 * the schema once, at start-up, so a misspelt or ill-typed field stops the job before it runs with
 * a message naming the key and the field; a record that still lacks a value (a null in a union)
 * fails alone, with the field named, and becomes a dead letter.
 */
public abstract class EventDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The entity field of a metric event when {@link InputOptions#ENTITY_FIELD} is unset. */
    public static final String DEFAULT_ENTITY_FIELD = "seriesId";

    /** Decodes one record; the message of the exception is the dead-letter reason. */
    public abstract MetricEvent decode(byte[] bytes) throws InvalidRecordException;

    /** The built-in {@link MetricEvent} schema. */
    public static EventDecoder builtIn() {
        return new BuiltIn();
    }

    /** The decoder the configuration asks for, validated against the schema. */
    public static EventDecoder from(Configuration conf) {
        return UserSchema.configured(conf)
                .<EventDecoder>map(
                        schema ->
                                new Mapped(
                                        schema,
                                        conf.getOptional(InputOptions.ENTITY_FIELD)
                                                .orElse(DEFAULT_ENTITY_FIELD),
                                        conf.get(InputOptions.TIME_FIELD),
                                        fields(conf.get(InputOptions.VALUES_FIELDS))))
                .orElseGet(EventDecoder::builtIn);
    }

    private static List<String> fields(String commaSeparated) {
        List<String> fields = new ArrayList<>();
        for (String field : commaSeparated.split(",")) {
            if (!field.isBlank()) {
                fields.add(field.trim());
            }
        }
        return fields;
    }

    /** The built-in {@link MetricEvent}, single-object encoded. */
    static final class BuiltIn extends EventDecoder {
        private static final long serialVersionUID = 1L;
        private final AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);

        @Override
        public MetricEvent decode(byte[] bytes) {
            return serde.decode(bytes);
        }
    }

    /** A user's schema and field mapping. */
    static final class Mapped extends EventDecoder {
        private static final long serialVersionUID = 1L;
        private final UserSchema schema;
        private final String entityField;
        private final String timeField;
        private final List<String> valueFields;

        Mapped(UserSchema schema, String entityField, String timeField, List<String> valueFields) {
            this.schema = schema;
            this.entityField = entityField;
            this.timeField = timeField;
            this.valueFields = List.copyOf(valueFields);
            schema.expectId(InputOptions.ENTITY_FIELD.key(), entityField);
            schema.expectTime(InputOptions.TIME_FIELD.key(), timeField);
            checkValues();
        }

        /** Start-up check of the values: several number fields, or one array of numbers. */
        private void checkValues() {
            String key = InputOptions.VALUES_FIELDS.key();
            if (valueFields.isEmpty()) {
                throw new IllegalArgumentException(key + " names no field");
            }
            for (String field : valueFields) {
                Schema type = schema.field(key, field);
                boolean array =
                        UserSchema.branches(type).stream()
                                .anyMatch(s -> s.getType() == Schema.Type.ARRAY);
                if (array && valueFields.size() > 1) {
                    throw new IllegalArgumentException(
                            key
                                    + ": field '"
                                    + field
                                    + "' is an array; name it alone or name several number fields");
                }
                boolean numbers =
                        UserSchema.branches(type).stream()
                                .anyMatch(Mapped::isNumberOrArrayOfNumbers);
                if (!numbers) {
                    throw new IllegalArgumentException(
                            key
                                    + ": field '"
                                    + field
                                    + "' is "
                                    + type
                                    + ", expected a number or an array of numbers");
                }
            }
        }

        private static boolean isNumberOrArrayOfNumbers(Schema schema) {
            return isNumber(schema)
                    || schema.getType() == Schema.Type.ARRAY
                            && UserSchema.branches(schema.getElementType()).stream()
                                    .anyMatch(Mapped::isNumber);
        }

        private static boolean isNumber(Schema schema) {
            return switch (schema.getType()) {
                case INT, LONG, FLOAT, DOUBLE -> true;
                default -> false;
            };
        }

        @Override
        public MetricEvent decode(byte[] bytes) {
            GenericRecord record = schema.read(bytes);
            String entity = UserSchema.id(record, entityField);
            List<Double> values = new ArrayList<>();
            for (String field : valueFields) {
                Object v = UserSchema.value(record, field);
                if (v instanceof List<?> list) {
                    for (int i = 0; i < list.size(); i++) {
                        values.add(number(list.get(i), field + "[" + i + "]"));
                    }
                } else {
                    values.add(number(v, field));
                }
            }
            return MetricEvent.newBuilder()
                    .setSeriesId(entity)
                    .setEventTime(schema.time(record, timeField))
                    .setValues(values)
                    .build();
        }

        private static double number(Object value, String field) {
            if (!(value instanceof Number n)) {
                throw new InvalidRecordException(
                        "field "
                                + field
                                + " is "
                                + (value == null ? "missing" : UserSchema.describe(value))
                                + ", expected a number");
            }
            double d = n.doubleValue();
            if (!Double.isFinite(d)) {
                throw new InvalidRecordException(
                        "field " + field + " is " + d + "; values must be finite");
            }
            return d;
        }
    }
}
