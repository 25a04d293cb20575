package io.streamlearn.jobs.input;

import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.MetricEvent;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.MissingSchemaException;
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

    /** Decodes one record; the message of the exception is the dead-letter reason. */
    public abstract MetricEvent decode(byte[] bytes) throws InvalidRecordException;

    /** The built-in {@link MetricEvent} schema. */
    public static EventDecoder builtIn() {
        return new BuiltIn();
    }

    /** The decoder the configuration asks for, validated against the schema. */
    public static EventDecoder from(Configuration conf) {
        String file = conf.get(InputOptions.SCHEMA_FILE);
        if (file == null || file.isBlank()) {
            return builtIn();
        }
        Schema schema;
        try {
            schema = new Schema.Parser().parse(Files.readString(Path.of(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    InputOptions.SCHEMA_FILE.key() + ": cannot read '" + file + "'", e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    InputOptions.SCHEMA_FILE.key()
                            + ": '"
                            + file
                            + "' is not a valid Avro schema: "
                            + e.getMessage(),
                    e);
        }
        String encoding = conf.get(InputOptions.ENCODING);
        if (!encoding.equals("single-object") && !encoding.equals("binary")) {
            throw new IllegalArgumentException(
                    InputOptions.ENCODING.key()
                            + " must be single-object or binary, got '"
                            + encoding
                            + "'");
        }
        List<String> values = new ArrayList<>();
        for (String field : conf.get(InputOptions.VALUES_FIELDS).split(",")) {
            if (!field.isBlank()) {
                values.add(field.trim());
            }
        }
        return new Mapped(
                schema.toString(),
                encoding.equals("binary"),
                conf.get(InputOptions.ENTITY_FIELD),
                conf.get(InputOptions.TIME_FIELD),
                values);
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
        private final String schemaJson;
        private final boolean plainBinary;
        private final String entityField;
        private final String timeField;
        private final List<String> valueFields;
        private transient Schema schema;
        private transient BinaryMessageDecoder<GenericRecord> singleObject;
        private transient GenericDatumReader<GenericRecord> binary;

        Mapped(
                String schemaJson,
                boolean plainBinary,
                String entityField,
                String timeField,
                List<String> valueFields) {
            this.schemaJson = schemaJson;
            this.plainBinary = plainBinary;
            this.entityField = entityField;
            this.timeField = timeField;
            this.valueFields = List.copyOf(valueFields);
            check();
        }

        /** Start-up check of the mapping against the schema. */
        private void check() {
            Schema schema = schema();
            if (schema.getType() != Schema.Type.RECORD) {
                throw new IllegalArgumentException(
                        InputOptions.SCHEMA_FILE.key()
                                + " must hold a record schema, got "
                                + schema.getType());
            }
            expect(
                    InputOptions.ENTITY_FIELD.key(),
                    entityField,
                    "a string, int or long",
                    Schema.Type.STRING,
                    Schema.Type.INT,
                    Schema.Type.LONG,
                    Schema.Type.ENUM);
            expect(
                    InputOptions.TIME_FIELD.key(),
                    timeField,
                    "epoch millis (long), timestamp-millis/micros or an ISO-8601 string",
                    Schema.Type.LONG,
                    Schema.Type.STRING);
            if (valueFields.isEmpty()) {
                throw new IllegalArgumentException(
                        InputOptions.VALUES_FIELDS.key() + " names no field");
            }
            for (String field : valueFields) {
                Schema type = nonNull(fieldSchema(InputOptions.VALUES_FIELDS.key(), field));
                boolean array = type.getType() == Schema.Type.ARRAY;
                if (array && valueFields.size() > 1) {
                    throw new IllegalArgumentException(
                            InputOptions.VALUES_FIELDS.key()
                                    + ": field '"
                                    + field
                                    + "' is an array; name it alone or name several number fields");
                }
                if (!isNumber(array ? nonNull(type.getElementType()) : type)) {
                    throw new IllegalArgumentException(
                            InputOptions.VALUES_FIELDS.key()
                                    + ": field '"
                                    + field
                                    + "' is "
                                    + type
                                    + ", expected a number or an array of numbers");
                }
            }
        }

        private void expect(String key, String field, String what, Schema.Type... allowed) {
            Schema type = nonNull(fieldSchema(key, field));
            if (!Arrays.asList(allowed).contains(type.getType())) {
                throw new IllegalArgumentException(
                        key + ": field '" + field + "' is " + type + ", expected " + what);
            }
        }

        private Schema fieldSchema(String key, String path) {
            Schema current = schema();
            for (String part : path.split("\\.")) {
                current = nonNull(current);
                Schema.Field field =
                        current.getType() == Schema.Type.RECORD ? current.getField(part) : null;
                if (field == null) {
                    throw new IllegalArgumentException(
                            key + ": the schema has no field '" + path + "' (at '" + part + "')");
                }
                current = field.schema();
            }
            return current;
        }

        private static Schema nonNull(Schema schema) {
            if (schema.getType() != Schema.Type.UNION) {
                return schema;
            }
            List<Schema> types =
                    schema.getTypes().stream()
                            .filter(s -> s.getType() != Schema.Type.NULL)
                            .toList();
            return types.size() == 1 ? types.get(0) : schema;
        }

        private static boolean isNumber(Schema schema) {
            return switch (schema.getType()) {
                case INT, LONG, FLOAT, DOUBLE -> true;
                default -> false;
            };
        }

        private Schema schema() {
            if (schema == null) {
                schema = new Schema.Parser().parse(schemaJson);
            }
            return schema;
        }

        @Override
        public MetricEvent decode(byte[] bytes) {
            if (bytes == null) {
                throw new InvalidRecordException("record value is null (tombstone)");
            }
            GenericRecord record = read(bytes);
            Object entity = value(record, entityField);
            if (entity == null || entity.toString().isBlank()) {
                throw new InvalidRecordException("field " + entityField + " is missing or empty");
            }
            List<Double> values = new ArrayList<>();
            for (String field : valueFields) {
                Object v = value(record, field);
                if (v instanceof List<?> list) {
                    for (int i = 0; i < list.size(); i++) {
                        values.add(number(list.get(i), field + "[" + i + "]"));
                    }
                } else {
                    values.add(number(v, field));
                }
            }
            return MetricEvent.newBuilder()
                    .setSeriesId(entity.toString())
                    .setEventTime(time(record))
                    .setValues(values)
                    .build();
        }

        private GenericRecord read(byte[] bytes) {
            try {
                if (plainBinary) {
                    if (binary == null) {
                        binary = new GenericDatumReader<>(schema());
                    }
                    return binary.read(null, DecoderFactory.get().binaryDecoder(bytes, null));
                }
                if (singleObject == null) {
                    singleObject = new BinaryMessageDecoder<>(GenericData.get(), schema());
                }
                return singleObject.decode(bytes);
            } catch (BadHeaderException e) {
                throw new InvalidRecordException(
                        "not Avro single-object encoding (" + e.getMessage() + ")");
            } catch (MissingSchemaException e) {
                throw new InvalidRecordException(
                        "written with a schema unknown to this job (" + e.getMessage() + ")");
            } catch (IOException | RuntimeException e) {
                throw new InvalidRecordException("corrupt or truncated record: " + e);
            }
        }

        private static Object value(GenericRecord record, String path) {
            Object current = record;
            for (String part : path.split("\\.")) {
                if (!(current instanceof GenericRecord r)) {
                    return null;
                }
                current = r.get(part);
            }
            return current;
        }

        private static double number(Object value, String field) {
            if (!(value instanceof Number n)) {
                throw new InvalidRecordException(
                        "field "
                                + field
                                + " is "
                                + (value == null ? "missing" : value)
                                + ", expected a number");
            }
            double d = n.doubleValue();
            if (!Double.isFinite(d)) {
                throw new InvalidRecordException(
                        "field " + field + " is " + d + "; values must be finite");
            }
            return d;
        }

        private Instant time(GenericRecord record) {
            Object value = value(record, timeField);
            if (value == null) {
                throw new InvalidRecordException("field " + timeField + " is missing");
            }
            if (value instanceof Long millis) {
                LogicalType logical =
                        nonNull(fieldSchema(InputOptions.TIME_FIELD.key(), timeField))
                                .getLogicalType();
                if (logical instanceof LogicalTypes.TimestampMicros) {
                    return Instant.ofEpochSecond(0, millis * 1000);
                }
                return Instant.ofEpochMilli(millis);
            }
            try {
                return Instant.parse(value.toString());
            } catch (DateTimeParseException e) {
                throw new InvalidRecordException(
                        "field " + timeField + " is '" + value + "', not an ISO-8601 instant");
            }
        }
    }
}
