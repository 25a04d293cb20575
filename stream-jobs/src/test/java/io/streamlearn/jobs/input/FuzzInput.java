package io.streamlearn.jobs.input;

import io.streamlearn.jobs.DecodeAndValidate;
import io.streamlearn.jobs.RawRecord;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

/**
 * What the decoder fuzz properties share: one generated record with what must become of it, the
 * byte-level ways a record goes bad whatever its schema, and the run of a batch through {@link
 * DecodeAndValidate} in Flink's operator test harness with its checks and counts.
 */
final class FuzzInput {
    private FuzzInput() {}

    /**
     * The longest dead-letter reason allowed: a reason must never outgrow the record it explains.
     */
    static final int MAX_REASON = 1_000;

    /** Events before year 1 or after year 9999 are bad (DecodeAndValidate's range). */
    static final Instant FIRST = Instant.parse("0001-01-01T00:00:00Z");

    static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /** What must become of a record. */
    enum Verdict {
        /** Decoded, equal to the expected event. */
        GOOD,
        /** A dead letter with a reason. */
        BAD,
        /**
         * Either, but once, and a decoded one must be usable (mutated bytes may still be valid).
         */
        EITHER
    }

    /** One generated record: its kind (for the counts and a failure's message) and its bytes. */
    record Input<T>(Verdict verdict, String kind, byte[] bytes, T expected) {
        static <T> Input<T> good(byte[] bytes, T expected) {
            return new Input<>(Verdict.GOOD, "good", bytes, expected);
        }

        static <T> Input<T> bad(String kind, byte[] bytes) {
            return new Input<>(Verdict.BAD, kind, bytes, null);
        }

        static <T> Input<T> either(String kind, byte[] bytes) {
            return new Input<>(Verdict.EITHER, kind, bytes, null);
        }

        @Override
        public String toString() {
            String hex =
                    bytes == null
                            ? "null"
                            : HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 48))
                                    + (bytes.length > 48 ? "...(" + bytes.length + " bytes)" : "");
            return verdict + " " + kind + " " + hex;
        }
    }

    /** An event's good encoding and the event itself. */
    record Encoded<T>(byte[] bytes, T event) {}

    /** The Avro single-object header (marker and fingerprint) of a schema. */
    static byte[] header(Schema schema) {
        return ByteBuffer.allocate(10)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0xC3)
                .put((byte) 0x01)
                .putLong(SchemaNormalization.parsingFingerprint64(schema))
                .array();
    }

    /** Avro's zig-zag varint of a long: how lengths, counts and union branches are written. */
    static byte[] varint(long n) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long z = (n << 1) ^ (n >> 63);
        while ((z & ~0x7FL) != 0) {
            out.write((int) ((z & 0x7F) | 0x80));
            z >>>= 7;
        }
        out.write((int) z);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** A length or count no record of a Kafka topic can hold, up to Avro's own array limit. */
    static long hugeLength(Random random) {
        return (1L << 20) + (long) (random.nextDouble() * (Integer.MAX_VALUE - 8 - (1L << 20)));
    }

    /** A time before year 1 or after year 9999, in epoch units of {@code perSecond}. */
    static long farTime(Random random, long perSecond) {
        long first = Math.multiplyExact(FIRST.getEpochSecond(), perSecond);
        long last = Math.multiplyExact(LAST.getEpochSecond() + 1, perSecond);
        return random.nextBoolean()
                ? first - 1 - (long) (random.nextDouble() * (first - 1 - (double) Long.MIN_VALUE))
                : last + (long) (random.nextDouble() * ((double) Long.MAX_VALUE - last));
    }

    /** An ISO-8601 instant before year 1 or after year 9999 (up to Instant's own limits). */
    static String farIsoTime(Random random) {
        long year =
                random.nextBoolean()
                        ? -(long) (random.nextDouble() * 999_999_999)
                        : 10_000 + (long) (random.nextDouble() * 999_989_999);
        String y = year < 0 ? String.format("-%04d", -year) : String.format("+%d", year);
        return y + "-06-15T12:00:00Z";
    }

    /** A time in a sane range (1900-2100) with millisecond precision. */
    static Instant goodMillis(Random random) {
        return Instant.ofEpochMilli(-2_208_988_800_000L + (long) (random.nextDouble() * 6.3e12));
    }

    /** A time in a sane range (1900-2100) with microsecond precision. */
    static Instant goodMicros(Random random) {
        long micros = -2_208_988_800_000_000L + (long) (random.nextDouble() * 6.3e15);
        return Instant.ofEpochSecond(
                Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1_000);
    }

    /** An id a producer could mean: printable, not blank, now and then very long. */
    static String goodId(Random random) {
        int length =
                random.nextInt(50) == 0 ? 2_000 + random.nextInt(20_000) : 1 + random.nextInt(30);
        StringBuilder id = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            id.append(
                    random.nextInt(10) == 0
                            ? (char) ('\u00a0' + random.nextInt(0x2000))
                            : (char) ('!' + random.nextInt('~' - '!' + 1)));
        }
        // Unicode spaces (U+2000..U+200A) alone are blank, and a blank id is bad: start visible.
        id.setCharAt(0, (char) ('A' + random.nextInt(26)));
        return id.toString();
    }

    /** Nothing but whitespace: empty, a few blanks, or a huge run of them. */
    static String blankId(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> "";
            case 1 -> " ";
            case 2 -> " \t\n ";
            default -> " ".repeat(10_000 + random.nextInt(100_000));
        };
    }

    /** A string that is no number and no time: noise, the names of specials, or a huge one. */
    static String noise(Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> "NaN";
            case 1 -> "Infinity";
            case 2 -> "2026-13-45T25:61:00Z";
            case 3 -> "x".repeat(50_000 + random.nextInt(200_000));
            case 4 -> "";
            default -> "t" + Long.toHexString(random.nextLong());
        };
    }

    /** A finite double that is not a float either: |v| beyond Float.MAX_VALUE, or NaN, ±∞. */
    static double notFinite(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> Double.NaN;
            case 1 -> Double.POSITIVE_INFINITY;
            case 2 -> Double.NEGATIVE_INFINITY;
            default ->
                    (random.nextBoolean() ? 1 : -1) * Float.MAX_VALUE * (2 + random.nextDouble());
        };
    }

    /** A finite value, as a float could hold it. */
    static double goodValue(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> 0.0;
            case 1 -> random.nextGaussian();
            case 2 ->
                    (random.nextBoolean() ? 1 : -1)
                            * (double) Float.MAX_VALUE
                            * random.nextDouble();
            default -> random.nextGaussian() * 1e6;
        };
    }

    /** One way a record goes bad, and how often it is picked relative to the others. */
    record Kind<T>(int weight, Function<Random, Input<T>> make) {}

    /**
     * The byte-level ways any record goes bad: random bytes, truncation, trailing bytes, a
     * tombstone and an empty value; and, where records carry a fingerprint, a wrong one.
     *
     * @param good a good record's bytes
     * @param header the single-object header records start with, or null for plain binary (where
     *     random bytes may happen to be a valid record: see {@link #mutated})
     */
    static <T> List<Kind<T>> byteLevel(Function<Random, byte[]> good, byte[] header) {
        List<Kind<T>> kinds = new ArrayList<>();
        if (header != null) {
            kinds.add(
                    new Kind<>(
                            3,
                            random -> {
                                byte[] bytes = randomBytes(random);
                                boolean headed =
                                        bytes.length >= header.length
                                                && Arrays.equals(
                                                        header,
                                                        0,
                                                        header.length,
                                                        bytes,
                                                        0,
                                                        header.length);
                                return headed
                                        ? Input.either("random bytes", bytes)
                                        : Input.bad("random bytes", bytes);
                            }));
            kinds.add(
                    new Kind<>(
                            2,
                            random -> {
                                byte[] wrong = good.apply(random).clone();
                                System.arraycopy(randomBytes(random, 8), 0, wrong, 2, 8);
                                return Input.bad("wrong fingerprint", wrong);
                            }));
        }
        kinds.add(
                new Kind<>(
                        3,
                        random -> {
                            byte[] bytes = good.apply(random);
                            return Input.bad(
                                    "truncated",
                                    Arrays.copyOf(bytes, random.nextInt(bytes.length)));
                        }));
        kinds.add(
                new Kind<>(
                        2,
                        random ->
                                Input.bad(
                                        "trailing bytes",
                                        concat(
                                                good.apply(random),
                                                randomBytes(random, 1 + random.nextInt(16))))));
        kinds.add(new Kind<>(1, random -> Input.bad("tombstone", null)));
        kinds.add(new Kind<>(1, random -> Input.bad("empty", new byte[0])));
        return kinds;
    }

    /**
     * Records that may or may not be valid: a good record with a few bytes flipped, and (for plain
     * binary, which has no header to miss) random bytes.
     */
    static <T> Function<Random, Input<T>> mutated(
            Function<Random, byte[]> good, boolean plainBinary) {
        return random -> {
            if (plainBinary && random.nextBoolean()) {
                return Input.either("random bytes", randomBytes(random));
            }
            byte[] copy = good.apply(random).clone();
            int flips = 1 + random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                copy[random.nextInt(copy.length)] ^= (byte) (1 + random.nextInt(255));
            }
            return Input.either("flipped bytes", copy);
        };
    }

    private static byte[] randomBytes(Random random) {
        return randomBytes(
                random, random.nextInt(8) == 0 ? random.nextInt(4096) : random.nextInt(64));
    }

    /** Counts of one decoder's run, printed when the properties end. */
    static final class Counts {
        long tries;
        long records;
        long bad;
        long deadLetters;
        long good;
        long goodUnchanged;
        long either;
        long eitherDead;
        long nanos;
        long generationNanos;
        final Map<String, Long> badByKind = new TreeMap<>();

        @Override
        public String toString() {
            return String.format(
                    "tries %d, records %d, bad %d, dead letters %d, good %d of which unchanged"
                            + " %d, mutated (good or bad) %d of which dead %d; %.1f s in the"
                            + " harness, %.1f s generating; bad by kind %s",
                    tries,
                    records,
                    bad,
                    deadLetters,
                    good,
                    goodUnchanged,
                    either,
                    eitherDead,
                    nanos / 1e9,
                    generationNanos / 1e9,
                    badByKind);
        }
    }

    static final Map<String, Counts> COUNTS = new TreeMap<>();

    /** Counts the time spent generating a batch for {@code decoder}. */
    static synchronized void generated(String decoder, long nanos) {
        COUNTS.computeIfAbsent(decoder, d -> new Counts()).generationNanos += nanos;
    }

    private static final Map<String, OneInputStreamOperatorTestHarness<RawRecord, ?>> HARNESSES =
            new HashMap<>();

    private static final AvroSerde<DeadLetter> DEAD_LETTER_SERDE = AvroSerde.of(DeadLetter.class);

    /**
     * Runs one batch through the decoder's harness (one per decoder, opened once) and checks it:
     * nothing escapes; each bad record is one dead letter with a bounded reason, its offset and its
     * original bytes, and the dead letter encodes; each good record comes out equal to its event,
     * in order; a record that may be either is decoded once or dead-lettered once, and a decoded
     * one passes {@code usable}.
     */
    @SuppressWarnings("unchecked")
    static synchronized <T> void run(
            String decoder,
            java.util.function.Supplier<DecodeAndValidate<T>> function,
            List<Input<T>> batch,
            Consumer<T> usable)
            throws Exception {
        OneInputStreamOperatorTestHarness<RawRecord, T> harness =
                (OneInputStreamOperatorTestHarness<RawRecord, T>)
                        HARNESSES.computeIfAbsent(
                                decoder,
                                name -> {
                                    try {
                                        return ProcessFunctionTestHarnesses.forProcessFunction(
                                                function.get());
                                    } catch (Exception e) {
                                        throw new IllegalStateException(e);
                                    }
                                });
        harness.getOutput().clear();
        var side = harness.getSideOutput(DecodeAndValidate.DEAD_LETTERS);
        if (side != null) {
            side.clear();
        }
        long start = System.nanoTime();
        for (int i = 0; i < batch.size(); i++) {
            Input<T> input = batch.get(i);
            RawRecord raw = new RawRecord("events", 3, i, 1_000L + i, null, input.bytes());
            try {
                harness.processElement(raw, raw.timestamp);
            } catch (Throwable e) {
                throw new AssertionError(decoder + ": " + input + " escaped as " + e, e);
            }
        }
        List<T> out = harness.extractOutputValues();
        Map<Long, DeadLetter> dead = new HashMap<>();
        side = harness.getSideOutput(DecodeAndValidate.DEAD_LETTERS);
        if (side != null) {
            for (var record : side) {
                DeadLetter letter = record.getValue();
                if (dead.put(letter.getOffset(), letter) != null) {
                    throw new AssertionError(
                            decoder + ": two dead letters for offset " + letter.getOffset());
                }
            }
        }
        Counts counts = COUNTS.computeIfAbsent(decoder, d -> new Counts());
        counts.nanos += System.nanoTime() - start;
        counts.tries++;
        int next = 0;
        for (int i = 0; i < batch.size(); i++) {
            Input<T> input = batch.get(i);
            counts.records++;
            DeadLetter letter = dead.get((long) i);
            switch (input.verdict()) {
                case BAD -> {
                    counts.bad++;
                    counts.badByKind.merge(input.kind(), 1L, Long::sum);
                }
                case GOOD -> counts.good++;
                case EITHER -> counts.either++;
            }
            if (letter != null) {
                checkDeadLetter(decoder, input, letter);
                counts.deadLetters++;
                if (input.verdict() == Verdict.GOOD) {
                    throw new AssertionError(
                            decoder
                                    + ": good record "
                                    + i
                                    + " became a dead letter: "
                                    + letter.getReason()
                                    + "; expected "
                                    + input.expected());
                }
                if (input.verdict() == Verdict.EITHER) {
                    counts.eitherDead++;
                }
                continue;
            }
            if (next >= out.size()) {
                throw new AssertionError(
                        decoder
                                + ": "
                                + input
                                + " (record "
                                + i
                                + ") left no trace: no output"
                                + " and no dead letter");
            }
            T event = out.get(next++);
            switch (input.verdict()) {
                case BAD ->
                        throw new AssertionError(
                                decoder
                                        + ": "
                                        + input
                                        + " (record "
                                        + i
                                        + ") was decoded as "
                                        + event);
                case GOOD -> {
                    if (!input.expected().equals(event)) {
                        throw new AssertionError(
                                decoder
                                        + ": good record "
                                        + i
                                        + " changed: expected "
                                        + input.expected()
                                        + ", got "
                                        + event);
                    }
                    counts.goodUnchanged++;
                }
                case EITHER -> {
                    try {
                        usable.accept(event);
                    } catch (RuntimeException e) {
                        throw new AssertionError(
                                decoder
                                        + ": "
                                        + input
                                        + " was decoded as "
                                        + event
                                        + ", which is not usable: "
                                        + e,
                                e);
                    }
                }
            }
        }
        if (next != out.size()) {
            throw new AssertionError(
                    decoder + ": " + out.size() + " events out of " + next + " decoded records");
        }
    }

    private static <T> void checkDeadLetter(String decoder, Input<T> input, DeadLetter letter) {
        String reason = letter.getReason();
        if (reason == null || reason.isBlank() || reason.length() > MAX_REASON) {
            throw new AssertionError(
                    decoder
                            + ": "
                            + input
                            + ": a dead letter's reason must say why in at most "
                            + MAX_REASON
                            + " characters, got "
                            + (reason == null
                                    ? "null"
                                    : reason.length()
                                            + ": "
                                            + reason.substring(0, Math.min(200, reason.length()))));
        }
        if (reason.startsWith(DecodeAndValidate.UNEXPECTED)) {
            throw new AssertionError(decoder + ": " + input + ": the decoder failed: " + reason);
        }
        byte[] payload = letter.getPayload() == null ? null : toArray(letter.getPayload());
        if (!Arrays.equals(input.bytes(), payload)) {
            throw new AssertionError(decoder + ": " + input + ": dead letter lost its bytes");
        }
        if (!"events".equals(letter.getSourceTopic()) || letter.getPartition() != 3) {
            throw new AssertionError(decoder + ": " + input + ": dead letter lost its topic");
        }
        DEAD_LETTER_SERDE.encode(letter);
    }

    private static byte[] toArray(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }

    /**
     * Prints the counts, closes the harnesses, and fails where a decoder got fewer than {@code
     * minBad} bad records or did not dead-letter each.
     */
    static synchronized void report(long minBad) throws Exception {
        COUNTS.forEach((decoder, counts) -> System.out.printf("fuzz %s: %s%n", decoder, counts));
        for (var entry : COUNTS.entrySet()) {
            Counts counts = entry.getValue();
            if (counts.bad < minBad || counts.deadLetters != counts.bad + counts.eitherDead) {
                throw new AssertionError(entry.getKey() + ": " + counts);
            }
        }
        for (var harness : HARNESSES.values()) {
            harness.close();
        }
        HARNESSES.clear();
    }

    /** A time as it must be for the job: in range, and as epoch millis. */
    static void usableTime(Instant time) {
        if (time.isBefore(FIRST) || time.isAfter(LAST)) {
            throw new IllegalStateException("time " + time + " outside years 1..9999");
        }
        time.toEpochMilli();
    }
}
