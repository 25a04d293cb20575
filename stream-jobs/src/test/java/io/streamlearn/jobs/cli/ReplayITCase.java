package io.streamlearn.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.jobs.replay.InteractionFiles;
import io.streamlearn.jobs.runtime.ClickstreamGenerator;
import io.streamlearn.jobs.runtime.MetricGenerator;
import io.streamlearn.schemas.MetricEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code streamlearn replay anomaly} and {@code replay recommend} end to end, as a user runs them:
 * generated files in, the jobs on the embedded broker and MiniCluster, files out.
 */
class ReplayITCase {
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private void replay(String... args) {
        int code =
                ReplayCommands.run(
                        args,
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
        System.out.print(out.toString(StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    }

    /**
     * Seasonal series with spikes injected after a learning period: the rows where they are (set in
     * {@code anomalies}, as "file:row").
     */
    private static void writeSeries(Path folder, int series, int rows, Set<String> anomalies)
            throws Exception {
        Files.createDirectories(folder);
        MetricGenerator generator =
                new MetricGenerator(series, 3L, 0.05, 0.0, Instant.parse("2026-01-01T00:00:00Z"));
        Random random = new Random(5);
        List<StringBuilder> files = new ArrayList<>();
        for (int s = 0; s < series; s++) {
            files.add(new StringBuilder("timestamp,value\n"));
        }
        for (int row = 0; row < rows; row++) {
            for (int s = 0; s < series; s++) {
                MetricEvent event = generator.next();
                double value = event.getValues().get(0);
                if (row >= 300 && random.nextDouble() < 0.01) {
                    value += (random.nextBoolean() ? 1 : -1) * (30 + 20 * random.nextDouble());
                    anomalies.add("s" + s + ".csv:" + row);
                }
                files.get(s)
                        .append(TIMESTAMP.format(event.getEventTime()))
                        .append(',')
                        .append(String.format(Locale.ROOT, "%.4f", value))
                        .append('\n');
            }
        }
        for (int s = 0; s < series; s++) {
            Files.writeString(folder.resolve("s" + s + ".csv"), files.get(s));
        }
    }

    @Test
    void anomaliesScoreAboveTheRestOneScorePerRowInTheFilesOrder(@TempDir Path dir)
            throws Exception {
        Set<String> anomalies = new HashSet<>();
        writeSeries(dir.resolve("in"), 3, 1200, anomalies);

        replay(
                "anomaly",
                "--input",
                dir.resolve("in").toString(),
                "--output",
                dir.resolve("out").toString());

        List<Double> anomalous = new ArrayList<>();
        List<Double> ordinary = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            List<String> in = Files.readAllLines(dir.resolve("in/s" + s + ".csv"));
            List<String> scored = Files.readAllLines(dir.resolve("out/s" + s + ".csv"));
            assertEquals("timestamp,value,anomaly_score", scored.get(0));
            assertEquals(in.size(), scored.size(), "one row out per row in");
            for (int row = 1; row < in.size(); row++) {
                String line = scored.get(row);
                assertTrue(line.startsWith(in.get(row) + ","), "same row, same order: " + line);
                double score = Double.parseDouble(line.substring(line.lastIndexOf(',') + 1));
                assertTrue(score >= 0 && score <= 1, "a score in [0, 1]: " + line);
                if (row - 1 >= 300) {
                    (anomalies.contains("s" + s + ".csv:" + (row - 1)) ? anomalous : ordinary)
                            .add(score);
                }
            }
        }
        // The probability that an injected anomaly scores above an ordinary row (ROC AUC).
        long above = 0;
        for (double a : anomalous) {
            for (double o : ordinary) {
                above += a > o ? 2 : a == o ? 1 : 0;
            }
        }
        double auc = above / (2.0 * anomalous.size() * ordinary.size());
        System.out.printf(
                Locale.ROOT,
                "replay anomaly: %d injected anomalies, ROC AUC %.3f, median score %.3f%n",
                anomalous.size(),
                auc,
                anomalous.stream().sorted().toList().get(anomalous.size() / 2));
        assertTrue(anomalous.size() >= 20, "enough anomalies to judge: " + anomalous.size());
        assertTrue(auc >= 0.95, "anomalies score above the rest: AUC " + auc);
    }

    @Test
    void aReplayIsDeterministic(@TempDir Path dir) throws Exception {
        writeSeries(dir.resolve("in"), 2, 500, new HashSet<>());
        for (String run : List.of("first", "second")) {
            replay(
                    "anomaly",
                    "--input",
                    dir.resolve("in").toString(),
                    "--output",
                    dir.resolve(run).toString(),
                    "--model",
                    "gru");
        }
        for (String file : List.of("s0.csv", "s1.csv")) {
            assertEquals(
                    Files.readString(dir.resolve("first").resolve(file)),
                    Files.readString(dir.resolve("second").resolve(file)),
                    file + ": the same scores, bit for bit");
        }
    }

    @Test
    void theRecommendationReplayScoresTheModelNextToTheBaselinesAndRecoversAfterADrift(
            @TempDir Path dir) throws Exception {
        int events = 16_000;
        Path history = dir.resolve("clicks.csv");
        InteractionFiles.write(
                history,
                ClickstreamGenerator.builder().optDriftAt(events / 2).build().next(events));
        Path config = dir.resolve("job.properties");
        Files.writeString(
                config,
                "streamlearn.model.window=4\n"
                        + "streamlearn.model.hidden-size=64\n"
                        + "streamlearn.model.learning-rate=0.01\n"
                        + "streamlearn.model.item-capacity=512\n");

        replay(
                "recommend",
                "--input",
                history.toString(),
                "--output",
                dir.resolve("out").toString(),
                "--model",
                "gru",
                "--k",
                "10",
                "--config",
                config.toString());

        String metrics = Files.readString(dir.resolve("out/metrics.json"));
        assertTrue(metrics.contains("\"events\": " + events), metrics);
        assertTrue(metrics.contains("\"k\": 10"), metrics);
        double model = hitRate(metrics, "\"model\"");
        double popularity = hitRate(metrics, "\"popularity\"");
        double transition = hitRate(metrics, "\"transition\"");
        assertTrue(model > 2 * popularity, "HR@10 " + model + " vs popularity " + popularity);

        // curve.csv: events, scored, time, model_hr, ... over the last 1000 scored events.
        List<String> curve = Files.readAllLines(dir.resolve("out/curve.csv"));
        assertTrue(curve.get(0).startsWith("events,scored,time,model_hr"), curve.get(0));
        double beforeDrift = Double.NaN;
        double afterDrift = Double.MAX_VALUE;
        for (String row : curve.subList(1, curve.size())) {
            String[] cells = row.split(",");
            long at = Long.parseLong(cells[0]);
            double hr = Double.parseDouble(cells[3]);
            if (at <= events / 2) {
                beforeDrift = hr;
            } else if (at <= events / 2 + 1500) {
                afterDrift = Math.min(afterDrift, hr);
            }
        }
        String[] last = curve.get(curve.size() - 1).split(",");
        double end = Double.parseDouble(last[3]);
        System.out.printf(
                Locale.ROOT,
                "replay recommend: HR@10 overall model %.3f, popularity %.3f, transition %.3f;"
                        + " model before the drift %.3f, after %.3f, at the end %.3f (transition"
                        + " %.3f)%n",
                model,
                popularity,
                transition,
                beforeDrift,
                afterDrift,
                end,
                Double.parseDouble(last[9]));
        assertTrue(afterDrift < 0.8 * beforeDrift, "the drift hurts: " + afterDrift);
        assertTrue(end >= 0.9 * beforeDrift, "and the model recovers: " + end);
    }

    private static double hitRate(String json, String system) {
        Matcher m = Pattern.compile(Pattern.quote(system) + ": \\{\"hr\": ([0-9.]+)").matcher(json);
        assertTrue(m.find(), system + " in " + json);
        return Double.parseDouble(m.group(1));
    }
}
