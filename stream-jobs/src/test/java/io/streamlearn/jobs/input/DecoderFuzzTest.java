package io.streamlearn.jobs.input;

import static io.streamlearn.jobs.input.FuzzInput.blankId;
import static io.streamlearn.jobs.input.FuzzInput.concat;
import static io.streamlearn.jobs.input.FuzzInput.farIsoTime;
import static io.streamlearn.jobs.input.FuzzInput.farTime;
import static io.streamlearn.jobs.input.FuzzInput.goodId;
import static io.streamlearn.jobs.input.FuzzInput.goodMicros;
import static io.streamlearn.jobs.input.FuzzInput.goodMillis;
import static io.streamlearn.jobs.input.FuzzInput.goodValue;
import static io.streamlearn.jobs.input.FuzzInput.header;
import static io.streamlearn.jobs.input.FuzzInput.hugeLength;
import static io.streamlearn.jobs.input.FuzzInput.noise;
import static io.streamlearn.jobs.input.FuzzInput.notFinite;
import static io.streamlearn.jobs.input.FuzzInput.varint;

import io.streamlearn.jobs.DecodeAndValidate;
import io.streamlearn.jobs.input.FuzzInput.Encoded;
import io.streamlearn.jobs.input.FuzzInput.Input;
import io.streamlearn.jobs.input.FuzzInput.Kind;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.InteractionEvent;
import io.streamlearn.schemas.MetricEvent;
import io.streamlearn.schemas.Prediction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;

/**
 * Bad input at volume: each decoder the job runs (built-in schemas and a user's schema, metric
 * events and interactions) gets {@value #TRIES} batches of {@value #BAD_PER_TRY} generated bad
 * records, shuffled among good ones, through {@link DecodeAndValidate} in Flink's operator test
 * harness. Nothing may escape as an exception, every bad record must leave as one dead letter with
 * a short reason and its bytes, and every good record must come out as it went in. The counts per
 * decoder are printed at the end.
 */
class DecoderFuzzTest {
    static final int TRIES = 1_000;
    static final int BAD_PER_TRY = 10;
    static final int FEATURES = 2;

    @AfterContainer
    static void printCounts() throws Exception {
        FuzzInput.report((long) TRIES * BAD_PER_TRY);
    }

    // ---- metric events, built-in schema ----------------------------------------------------

    private static final AvroSerde<MetricEvent> METRICS = AvroSerde.of(MetricEvent.class);

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void builtInMetricsDeadLetterEveryBadRecord(
            @ForAll("builtInMetrics") List<Input<MetricEvent>> batch) throws Exception {
        FuzzInput.run(
                "metrics, built-in schema",
                () -> DecodeAndValidate.metrics(FEATURES, EventDecoder.builtIn()),
                batch,
                DecoderFuzzTest::usableMetric);
    }

    @Provide
    Arbitrary<List<Input<MetricEvent>>> builtInMetrics() {
        Function<Random, Encoded<MetricEvent>> good =
                random -> {
                    MetricEvent event = metric(random, goodId(random), FEATURES);
                    return new Encoded<>(METRICS.encode(event), event);
                };
        byte[] header = header(MetricEvent.getClassSchema());
        List<Kind<MetricEvent>> bad = FuzzInput.byteLevel(good.andThen(Encoded::bytes), header);
        bad.add(
                new Kind<>(
                        2,
                        random ->
                                Input.bad(
                                        "blank series id",
                                        METRICS.encode(
                                                metric(random, blankId(random), FEATURES)))));
        bad.add(
                new Kind<>(
                        3,
                        random -> {
                            MetricEvent event = metric(random, goodId(random), FEATURES);
                            List<Double> values = new ArrayList<>(event.getValues());
                            values.set(random.nextInt(FEATURES), notFinite(random));
                            event.setValues(values);
                            return Input.bad(
                                    "NaN, infinite or beyond float", METRICS.encode(event));
                        }));
        bad.add(
                new Kind<>(
                        2,
                        random -> {
                            int n = random.nextInt(40);
                            return Input.bad(
                                    "wrong number of values",
                                    METRICS.encode(
                                            metric(
                                                    random,
                                                    goodId(random),
                                                    n == FEATURES ? n + 1 : n)));
                        }));
        bad.add(
                new Kind<>(
                        2,
                        random -> {
                            MetricEvent event = metric(random, goodId(random), FEATURES);
                            event.setEventTime(Instant.ofEpochMilli(farTime(random, 1_000)));
                            return Input.bad(
                                    "time before year 1 or after 9999", METRICS.encode(event));
                        }));
        bad.add(
                new Kind<>(
                        2,
                        random ->
                                Input.bad(
                                        "huge string length",
                                        concat(
                                                header,
                                                varint(hugeLength(random)),
                                                "abc".getBytes(StandardCharsets.UTF_8)))));
        bad.add(
                new Kind<>(
                        2,
                        random ->
                                Input.bad(
                                        "huge array count",
                                        concat(
                                                header,
                                                varint(1),
                                                new byte[] {'s'},
                                                varint(0),
                                                varint(hugeLength(random)),
                                                new byte[8]))));
        bad.add(
                new Kind<>(
                        1,
                        random ->
                                Input.bad(
                                        "another type",
                                        AvroSerde.of(Prediction.class)
                                                .encode(
                                                        Prediction.newBuilder()
                                                                .setEntityId(goodId(random))
                                                                .setEventTime(goodMillis(random))
                                                                .setPredicted(List.of(1.0))
                                                                .setModelVersion(1)
                                                                .build()))));
        return batch(
                "metrics, built-in schema",
                good.andThen(e -> Input.good(e.bytes(), e.event())),
                bad,
                FuzzInput.mutated(good.andThen(Encoded::bytes), false));
    }

    private static MetricEvent metric(Random random, String id, int features) {
        List<Double> values = new ArrayList<>();
        for (int i = 0; i < features; i++) {
            values.add(goodValue(random));
        }
        return MetricEvent.newBuilder()
                .setSeriesId(id)
                .setEventTime(goodMillis(random))
                .setValues(values)
                .setTags(random.nextBoolean() ? Map.of() : Map.of("host", goodId(random)))
                .build();
    }

    // ---- metric events, a user's schema (plain binary) -----------------------------------------

    /**
     * A user's metrics: the host nested and nullable, a union time (ISO string, micros, or a bad
     * boolean), a cpu that may be a (bad) string, a nullable float, and a note the job ignores.
     */
    private static final Schema HOST_METRICS =
            new Schema.Parser()
                    .parse(
                            """
{"type": "record", "name": "HostMetrics", "namespace": "com.example",
 "fields": [
   {"name": "source", "type": ["null", {"type": "record", "name": "Source",
     "fields": [{"name": "host", "type": ["null", "string", "double"]}]}]},
   {"name": "ts", "type": ["null", "string",
     {"type": "long", "logicalType": "timestamp-micros"}, "boolean"]},
   {"name": "cpu", "type": ["null", "double", "string"]},
   {"name": "mem", "type": ["null", "float"]},
   {"name": "note", "type": "string"}
 ]}
""");

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void userSchemaMetricsDeadLetterEveryBadRecord(
            @ForAll("userMetrics") List<Input<MetricEvent>> batch) throws Exception {
        FuzzInput.run(
                "metrics, user schema (binary)",
                () -> {
                    Configuration conf = schemaConf(HOST_METRICS, "binary");
                    conf.set(InputOptions.ENTITY_FIELD, "source.host");
                    conf.set(InputOptions.TIME_FIELD, "ts");
                    conf.set(InputOptions.VALUES_FIELDS, "cpu, mem");
                    return DecodeAndValidate.metrics(FEATURES, EventDecoder.from(conf));
                },
                batch,
                DecoderFuzzTest::usableMetric);
    }

    @Provide
    Arbitrary<List<Input<MetricEvent>>> userMetrics() {
        Function<Random, Encoded<MetricEvent>> good = DecoderFuzzTest::hostMetric;
        List<Kind<MetricEvent>> bad = FuzzInput.byteLevel(good.andThen(Encoded::bytes), null);
        bad.add(new Kind<>(6, DecoderFuzzTest::badHostMetric));
        return batch(
                "metrics, user schema (binary)",
                good.andThen(e -> Input.good(e.bytes(), e.event())),
                bad,
                FuzzInput.mutated(good.andThen(Encoded::bytes), true));
    }

    private static Encoded<MetricEvent> hostMetric(Random random) {
        GenericRecord source =
                new GenericData.Record(HOST_METRICS.getField("source").schema().getTypes().get(1));
        String host = goodId(random);
        source.put("host", host);
        GenericRecord r = new GenericData.Record(HOST_METRICS);
        r.put("source", source);
        Instant time = goodMicros(random);
        r.put(
                "ts",
                random.nextBoolean()
                        ? time.toString()
                        : time.getEpochSecond() * 1_000_000 + time.getNano() / 1_000);
        double cpu = goodValue(random);
        float mem = (float) goodValue(random);
        r.put("cpu", cpu);
        r.put("mem", mem);
        r.put("note", random.nextInt(20) == 0 ? noise(random) : goodId(random));
        MetricEvent event =
                MetricEvent.newBuilder()
                        .setSeriesId(host)
                        .setEventTime(time)
                        .setValues(List.of(cpu, (double) mem))
                        .build();
        return new Encoded<>(binary(HOST_METRICS, r), event);
    }

    /** A host metric gone bad in one field: missing, mistyped, not finite, out of range, huge. */
    private static Input<MetricEvent> badHostMetric(Random random) {
        GenericRecord r = new GenericData.Record(HOST_METRICS);
        GenericRecord source =
                new GenericData.Record(HOST_METRICS.getField("source").schema().getTypes().get(1));
        source.put("host", goodId(random));
        r.put("source", source);
        r.put("ts", goodMicros(random).toString());
        r.put("cpu", goodValue(random));
        r.put("mem", (float) goodValue(random));
        r.put("note", "n");
        String kind;
        switch (random.nextInt(12)) {
            case 0 -> {
                kind = "missing source";
                r.put("source", null);
            }
            case 1 -> {
                kind = "missing host";
                source.put("host", null);
            }
            case 2 -> {
                kind = "mistyped host (double)";
                source.put("host", random.nextGaussian());
            }
            case 3 -> {
                kind = "blank host";
                source.put("host", blankId(random));
            }
            case 4 -> {
                kind = "missing time";
                r.put("ts", null);
            }
            case 5 -> {
                kind = "mistyped time (boolean)";
                r.put("ts", random.nextBoolean());
            }
            case 6 -> {
                kind = "time not ISO-8601";
                r.put("ts", noise(random));
            }
            case 7 -> {
                kind = "time before year 1 or after 9999";
                r.put("ts", random.nextBoolean() ? farTime(random, 1_000_000) : farIsoTime(random));
            }
            case 8 -> {
                kind = "missing value";
                r.put(random.nextBoolean() ? "cpu" : "mem", null);
            }
            case 9 -> {
                kind = "mistyped value (string)";
                r.put("cpu", random.nextBoolean() ? "0.5" : noise(random));
            }
            case 10 -> {
                kind = "NaN, infinite or beyond float";
                r.put("cpu", notFinite(random));
            }
            default -> {
                kind = "NaN or infinite float";
                r.put("mem", random.nextBoolean() ? Float.NaN : Float.NEGATIVE_INFINITY);
            }
        }
        return Input.bad(kind, binary(HOST_METRICS, r));
    }

    // ---- interactions, built-in schema -----------------------------------------------------

    private static final AvroSerde<InteractionEvent> INTERACTIONS =
            AvroSerde.of(InteractionEvent.class);

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void builtInInteractionsDeadLetterEveryBadRecord(
            @ForAll("builtInInteractions") List<Input<InteractionEvent>> batch) throws Exception {
        FuzzInput.run(
                "interactions, built-in schema",
                () -> DecodeAndValidate.interactions(InteractionDecoder.builtIn()),
                batch,
                DecoderFuzzTest::usableInteraction);
    }

    @Provide
    Arbitrary<List<Input<InteractionEvent>>> builtInInteractions() {
        Function<Random, Encoded<InteractionEvent>> good =
                random -> {
                    InteractionEvent event = interaction(random, goodId(random), goodId(random));
                    return new Encoded<>(INTERACTIONS.encode(event), event);
                };
        byte[] header = header(InteractionEvent.getClassSchema());
        List<Kind<InteractionEvent>> bad =
                FuzzInput.byteLevel(good.andThen(Encoded::bytes), header);
        bad.add(
                new Kind<>(
                        3,
                        random -> {
                            boolean user = random.nextBoolean();
                            InteractionEvent event =
                                    interaction(
                                            random,
                                            user ? blankId(random) : goodId(random),
                                            user ? goodId(random) : blankId(random));
                            return Input.bad(
                                    user ? "blank user" : "blank item", INTERACTIONS.encode(event));
                        }));
        bad.add(
                new Kind<>(
                        2,
                        random -> {
                            InteractionEvent event =
                                    interaction(random, goodId(random), goodId(random));
                            event.setEventTime(Instant.ofEpochMilli(farTime(random, 1_000)));
                            return Input.bad(
                                    "time before year 1 or after 9999", INTERACTIONS.encode(event));
                        }));
        bad.add(
                new Kind<>(
                        2,
                        random ->
                                Input.bad(
                                        "huge string length",
                                        concat(
                                                header,
                                                varint(1),
                                                new byte[] {'u'},
                                                varint(hugeLength(random)),
                                                new byte[4]))));
        bad.add(
                new Kind<>(
                        2,
                        random ->
                                Input.bad(
                                        "huge map count",
                                        concat(
                                                header,
                                                varint(1),
                                                new byte[] {'u'},
                                                varint(1),
                                                new byte[] {'i'},
                                                varint(0),
                                                varint(0),
                                                varint(hugeLength(random)),
                                                new byte[4]))));
        bad.add(
                new Kind<>(
                        1,
                        random ->
                                Input.bad(
                                        "another type",
                                        METRICS.encode(metric(random, goodId(random), 1)))));
        return batch(
                "interactions, built-in schema",
                good.andThen(e -> Input.good(e.bytes(), e.event())),
                bad,
                FuzzInput.mutated(good.andThen(Encoded::bytes), false));
    }

    private static InteractionEvent interaction(Random random, String user, String item) {
        return InteractionEvent.newBuilder()
                .setUserId(user)
                .setItemId(item)
                .setEventTime(goodMillis(random))
                .setKind(random.nextBoolean() ? "view" : goodId(random))
                .setTags(random.nextBoolean() ? Map.of() : Map.of("page", goodId(random)))
                .build();
    }

    // ---- interactions, a user's schema (single-object) ---------------------------------------

    /** A user's clicks: union-typed user, item and time, so any of them can be mistyped. */
    private static final Schema CLICKS =
            new Schema.Parser()
                    .parse(
                            """
{"type": "record", "name": "Click", "namespace": "com.example",
 "fields": [
   {"name": "user", "type": ["null", "string", "long", "double"]},
   {"name": "item", "type": ["null", "int", "string", "boolean"]},
   {"name": "at", "type": ["null", "string",
     {"type": "long", "logicalType": "timestamp-millis"}, "double"]},
   {"name": "action", "type": ["null", {"type": "enum", "name": "Action",
     "symbols": ["VIEW", "CART", "BUY"]}, "string"]}
 ]}
""");

    @Property(tries = TRIES, shrinking = ShrinkingMode.OFF)
    void userSchemaInteractionsDeadLetterEveryBadRecord(
            @ForAll("userInteractions") List<Input<InteractionEvent>> batch) throws Exception {
        FuzzInput.run(
                "interactions, user schema (single-object)",
                () -> {
                    Configuration conf = schemaConf(CLICKS, "single-object");
                    conf.set(InputOptions.ENTITY_FIELD, "user");
                    conf.set(InputOptions.ITEM_FIELD, "item");
                    conf.set(InputOptions.TIME_FIELD, "at");
                    conf.set(InputOptions.KIND_FIELD, "action");
                    return DecodeAndValidate.interactions(InteractionDecoder.from(conf));
                },
                batch,
                DecoderFuzzTest::usableInteraction);
    }

    @Provide
    Arbitrary<List<Input<InteractionEvent>>> userInteractions() {
        Function<Random, Encoded<InteractionEvent>> good = DecoderFuzzTest::click;
        List<Kind<InteractionEvent>> bad =
                FuzzInput.byteLevel(good.andThen(Encoded::bytes), header(CLICKS));
        bad.add(new Kind<>(6, DecoderFuzzTest::badClick));
        bad.add(
                new Kind<>(
                        1,
                        random ->
                                Input.bad(
                                        "another type",
                                        INTERACTIONS.encode(
                                                interaction(
                                                        random, goodId(random), goodId(random))))));
        return batch(
                "interactions, user schema (single-object)",
                good.andThen(e -> Input.good(e.bytes(), e.event())),
                bad,
                FuzzInput.mutated(good.andThen(Encoded::bytes), false));
    }

    private static final Schema ACTION = CLICKS.getField("action").schema().getTypes().get(1);

    private static Encoded<InteractionEvent> click(Random random) {
        GenericRecord r = new GenericData.Record(CLICKS);
        Object user = random.nextBoolean() ? goodId(random) : random.nextLong();
        Object item = random.nextBoolean() ? goodId(random) : random.nextInt();
        Instant time = goodMillis(random);
        r.put("user", user);
        r.put("item", item);
        r.put("at", random.nextBoolean() ? time.toString() : time.toEpochMilli());
        Object action =
                switch (random.nextInt(3)) {
                    case 0 -> null;
                    case 1 ->
                            new GenericData.EnumSymbol(
                                    ACTION, ACTION.getEnumSymbols().get(random.nextInt(3)));
                    default -> goodId(random);
                };
        r.put("action", action);
        InteractionEvent.Builder event =
                InteractionEvent.newBuilder()
                        .setUserId(user.toString())
                        .setItemId(item.toString())
                        .setEventTime(time);
        if (action != null) {
            event.setKind(action.toString());
        }
        return new Encoded<>(singleObject(CLICKS, r), event.build());
    }

    /** A click gone bad in one field: missing, mistyped, blank, out of range, huge. */
    private static Input<InteractionEvent> badClick(Random random) {
        GenericRecord r = new GenericData.Record(CLICKS);
        r.put("user", goodId(random));
        r.put("item", goodId(random));
        r.put("at", goodMillis(random).toString());
        r.put("action", null);
        String kind;
        switch (random.nextInt(10)) {
            case 0 -> {
                kind = "missing user";
                r.put("user", null);
            }
            case 1 -> {
                kind = "mistyped user (double)";
                r.put("user", random.nextBoolean() ? Double.NaN : random.nextGaussian());
            }
            case 2 -> {
                kind = "blank user";
                r.put("user", blankId(random));
            }
            case 3 -> {
                kind = "missing item";
                r.put("item", null);
            }
            case 4 -> {
                kind = "mistyped item (boolean)";
                r.put("item", random.nextBoolean());
            }
            case 5 -> {
                kind = "blank item";
                r.put("item", blankId(random));
            }
            case 6 -> {
                kind = "missing time";
                r.put("at", null);
            }
            case 7 -> {
                kind = "mistyped time (double)";
                r.put("at", random.nextBoolean() ? Double.POSITIVE_INFINITY : random.nextDouble());
            }
            case 8 -> {
                kind = "time not ISO-8601";
                r.put("at", noise(random));
            }
            default -> {
                kind = "time before year 1 or after 9999";
                r.put("at", random.nextBoolean() ? farTime(random, 1_000) : farIsoTime(random));
            }
        }
        return Input.bad(kind, singleObject(CLICKS, r));
    }

    // ---- shared --------------------------------------------------------------------------------

    /** {@value #BAD_PER_TRY} bad records, up to as many good ones and 3 mutated, shuffled. */
    private static <T> Arbitrary<List<Input<T>>> batch(
            String decoder,
            Function<Random, Input<T>> good,
            List<Kind<T>> bad,
            Function<Random, Input<T>> mutated) {
        int total = bad.stream().mapToInt(Kind::weight).sum();
        return Arbitraries.randomValue(
                random -> {
                    long start = System.nanoTime();
                    List<Input<T>> all = new ArrayList<>();
                    for (int i = 0; i < BAD_PER_TRY; i++) {
                        int pick = random.nextInt(total);
                        for (Kind<T> kind : bad) {
                            pick -= kind.weight();
                            if (pick < 0) {
                                all.add(kind.make().apply(random));
                                break;
                            }
                        }
                    }
                    for (int i = random.nextInt(BAD_PER_TRY + 1); i > 0; i--) {
                        all.add(good.apply(random));
                    }
                    for (int i = random.nextInt(4); i > 0; i--) {
                        all.add(mutated.apply(random));
                    }
                    Collections.shuffle(all, random);
                    FuzzInput.generated(decoder, System.nanoTime() - start);
                    return all;
                });
    }

    private static Configuration schemaConf(Schema schema, String encoding) {
        try {
            Path file = Files.createTempFile("fuzz-schema", ".avsc");
            file.toFile().deleteOnExit();
            Files.writeString(file, schema.toString());
            Configuration conf = new Configuration();
            conf.set(InputOptions.SCHEMA_FILE, file.toString());
            conf.set(InputOptions.ENCODING, encoding);
            return conf;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] binary(Schema schema, GenericRecord record) {
        try {
            return AvroBytes.binary(schema, record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] singleObject(Schema schema, GenericRecord record) {
        try {
            return AvroBytes.singleObject(schema, record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void usableMetric(MetricEvent event) {
        FuzzInput.usableTime(event.getEventTime());
        if (event.getSeriesId().isBlank() || event.getValues().size() != FEATURES) {
            throw new IllegalStateException("blank id or wrong number of values");
        }
        for (double v : event.getValues()) {
            if (!Double.isFinite(v) || Math.abs(v) > Float.MAX_VALUE) {
                throw new IllegalStateException("value " + v);
            }
        }
        METRICS.encode(event);
    }

    private static void usableInteraction(InteractionEvent event) {
        FuzzInput.usableTime(event.getEventTime());
        if (event.getUserId().isBlank() || event.getItemId().isBlank()) {
            throw new IllegalStateException("blank id");
        }
        INTERACTIONS.encode(event);
    }
}
