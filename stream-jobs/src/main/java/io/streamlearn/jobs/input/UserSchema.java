package io.streamlearn.jobs.input;

import io.streamlearn.schemas.InvalidRecordException;
import io.streamlearn.schemas.RecordBytes;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;

/**
 * A user's own Avro schema, how its records are encoded, and reading the fields a mapping names:
 * what {@link EventDecoder} and {@link InteractionDecoder} share. Fields are dot paths ({@code
 * source.host}). A field passes the start-up check when it exists and one of its non-null types is
 * allowed; the failures name the key and the field ({@link IllegalArgumentException}). A record
 * whose field is null, or holds a type the mapping cannot use (another branch of a union), fails
 * alone with the field named ({@link InvalidRecordException}, a dead letter).
 */
final class UserSchema implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The types an id (entity, user, item) may have; numbers become their decimal string. */
    private static final Schema.Type[] ID_TYPES = {
        Schema.Type.STRING, Schema.Type.INT, Schema.Type.LONG, Schema.Type.ENUM
    };

    private final String json;
    private final boolean plainBinary;

    /** Nanoseconds per unit of each checked long time field: 1e6 millis, 1e3 micros, 1 nanos. */
    private final HashMap<String, Long> timeUnits = new HashMap<>();

    private transient Schema schema;

    /** The reader of records of this schema, by the schema's fingerprint (the only one known). */
    private transient Map<Long, GenericDatumReader<GenericRecord>> readers;

    private transient String expected;

    private UserSchema(String json, boolean plainBinary) {
        this.json = json;
        this.plainBinary = plainBinary;
        if (schema().getType() != Schema.Type.RECORD) {
            throw new IllegalArgumentException(
                    InputOptions.SCHEMA_FILE.key()
                            + " must hold a record schema, got "
                            + schema().getType());
        }
    }

    /**
     * The schema and encoding the configuration names, or empty when {@link
     * InputOptions#SCHEMA_FILE} is unset (the built-in event).
     */
    static Optional<UserSchema> configured(Configuration conf) {
        String file = conf.get(InputOptions.SCHEMA_FILE);
        if (file == null || file.isBlank()) {
            return Optional.empty();
        }
        Schema parsed;
        try {
            parsed = new Schema.Parser().parse(Files.readString(Path.of(file)));
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
        return Optional.of(new UserSchema(parsed.toString(), encoding.equals("binary")));
    }

    /** Start-up check of a field holding an id: a string, int, long or enum. */
    void expectId(String key, String path) {
        expect(key, path, "a string, int or long", ID_TYPES);
    }

    /** Start-up check of a field holding the event time; remembers its unit. */
    void expectTime(String key, String path) {
        Schema field =
                expect(
                        key,
                        path,
                        "epoch millis (long), timestamp-millis/micros/nanos or an ISO-8601 string",
                        Schema.Type.LONG,
                        Schema.Type.STRING);
        long nanosPerUnit = 1_000_000;
        for (Schema branch : branches(field)) {
            LogicalType logical = branch.getLogicalType();
            if (branch.getType() == Schema.Type.LONG && logical != null) {
                if (logical.getName().endsWith("-micros")) {
                    nanosPerUnit = 1_000;
                } else if (logical.getName().endsWith("-nanos")) {
                    nanosPerUnit = 1;
                }
            }
        }
        timeUnits.put(path, nanosPerUnit);
    }

    /**
     * Start-up check: the field exists and one of its non-null types is among {@code allowed}.
     *
     * @return the field's schema (a union where the field is nullable)
     */
    Schema expect(String key, String path, String what, Schema.Type... allowed) {
        Schema field = field(key, path);
        List<Schema.Type> ok = Arrays.asList(allowed);
        if (branches(field).stream().noneMatch(s -> ok.contains(s.getType()))) {
            throw new IllegalArgumentException(
                    key + ": field '" + path + "' is " + field + ", expected " + what);
        }
        return field;
    }

    /** The schema of the field at {@code path}; throws naming {@code key} when there is none. */
    Schema field(String key, String path) {
        Schema current = schema();
        for (String part : path.split("\\.")) {
            Schema.Field field =
                    branches(current).stream()
                            .filter(s -> s.getType() == Schema.Type.RECORD)
                            .map(s -> s.getField(part))
                            .filter(f -> f != null)
                            .findFirst()
                            .orElse(null);
            if (field == null) {
                throw new IllegalArgumentException(
                        key + ": the schema has no field '" + path + "' (at '" + part + "')");
            }
            current = field.schema();
        }
        return current;
    }

    /** The types a value of this schema may have, null left out. */
    static List<Schema> branches(Schema schema) {
        if (schema.getType() != Schema.Type.UNION) {
            return List.of(schema);
        }
        return schema.getTypes().stream().filter(s -> s.getType() != Schema.Type.NULL).toList();
    }

    /**
     * Reads one record's bytes in the configured encoding, strictly ({@link RecordBytes}): with
     * plain binary there is no fingerprint, so bytes left over are the one sign that a record was
     * written with another schema.
     */
    GenericRecord read(byte[] bytes) {
        if (readers == null) {
            GenericDatumReader<GenericRecord> reader =
                    new GenericDatumReader<>(schema(), schema(), GenericData.get());
            readers = Map.of(SchemaNormalization.parsingFingerprint64(schema()), reader);
            expected = schema().getName() + " (" + InputOptions.SCHEMA_FILE.key() + ")";
        }
        if (plainBinary) {
            return RecordBytes.readBinary(readers.values().iterator().next(), bytes, expected);
        }
        return RecordBytes.readSingleObject(readers, bytes, expected);
    }

    /** The value at {@code path}; null when it, or a record on the way, is null. */
    static Object value(GenericRecord record, String path) {
        Object current = record;
        for (String part : path.split("\\.")) {
            if (!(current instanceof GenericRecord r)) {
                return null;
            }
            current = r.get(part);
        }
        return current;
    }

    /** An id: a string or enum symbol as it is, an int or long as its decimal string. */
    static String id(GenericRecord record, String path) {
        Object value = value(record, path);
        if (value == null) {
            throw new InvalidRecordException("field " + path + " is missing");
        }
        if (!(value instanceof CharSequence
                || value instanceof GenericEnumSymbol<?>
                || value instanceof Integer
                || value instanceof Long)) {
            throw new InvalidRecordException(
                    "field "
                            + path
                            + " is "
                            + describe(value)
                            + ", expected a string, int or long");
        }
        String id = value.toString();
        if (id.isBlank()) {
            throw new InvalidRecordException("field " + path + " is empty");
        }
        return id;
    }

    /** The event time at a field checked by {@link #expectTime}. */
    Instant time(GenericRecord record, String path) {
        Object value = value(record, path);
        if (value == null) {
            throw new InvalidRecordException("field " + path + " is missing");
        }
        Instant time;
        if (value instanceof Long units) {
            long nanosPerUnit = timeUnits.getOrDefault(path, 1_000_000L);
            long perSecond = 1_000_000_000L / nanosPerUnit;
            time =
                    Instant.ofEpochSecond(
                            Math.floorDiv(units, perSecond),
                            Math.floorMod(units, perSecond) * nanosPerUnit);
        } else if (value instanceof CharSequence text) {
            try {
                time = Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw new InvalidRecordException(
                        "field " + path + " is " + describe(value) + ", not an ISO-8601 instant");
            }
        } else {
            throw new InvalidRecordException(
                    "field " + path + " is " + describe(value) + ", expected a time");
        }
        String problem = EventTimes.problem(path, time);
        if (problem != null) {
            throw new InvalidRecordException(problem);
        }
        return time;
    }

    /** The most of a value a reason quotes: a reason must stay short whatever the record holds. */
    static final int QUOTED = 100;

    /** A value (its start, where it is long) and its Java type, for a message. */
    static String describe(Object value) {
        String text = value.toString();
        String quoted =
                text.length() <= QUOTED
                        ? text
                        : text.substring(0, QUOTED) + "... (" + text.length() + " characters)";
        return "'" + quoted + "' (" + value.getClass().getSimpleName() + ")";
    }

    private Schema schema() {
        if (schema == null) {
            schema = new Schema.Parser().parse(json);
        }
        return schema;
    }
}
