package io.streamlearn.jobs.replay;

import io.streamlearn.jobs.replay.AlertWindowReport.Score;
import io.streamlearn.jobs.replay.AlertWindowReport.Window;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Scores anomaly scores against labelled windows the way the Numenta Anomaly Benchmark does (Lavin
 * &amp; Ahmad, "Evaluating Real-time Anomaly Detection Algorithms — the Numenta Anomaly Benchmark",
 * ICMLA 2015; NAB v1.1), so the feed is judged by the field's yardstick.
 *
 * <p>A row alerts when its score is at least the threshold. Per file:
 *
 * <ul>
 *   <li>The first {@code min(⌊p·n⌋, p·5000)} of its {@code n} rows ({@code p} = 0.15) are a
 *       learning period: they neither score nor cost, and a window with no row after it is not
 *       counted.
 *   <li>A window (rows {@code l..r}, width {@code w = r − l + 1}) scores for its earliest alerting
 *       row {@code i} only: {@code A_TP · σ(−(r − i + 1)/w) / σ(−1)}, with the scaled sigmoid
 *       {@code σ(x) = 2/(1 + e^{5x}) − 1} (−1 for {@code x > 3}). An alert on the window's first
 *       row earns exactly {@code A_TP}; later ones less. A window without an alert costs {@code
 *       −A_FN}.
 *   <li>An alert outside every window costs {@code A_FP · σ(|i − r'| / (w' − 1))}, where {@code r'}
 *       and {@code w'} are the right edge and width of the last window before it (so an alert just
 *       after a window costs little, one far from it {@code −A_FP}); with no window before it,
 *       {@code −A_FP}.
 * </ul>
 *
 * <p>For each cost profile ({@link Profile}) one threshold serves every file: the one, among every
 * distinct score and "never alert", that maximises the summed raw score (an exhaustive sweep; on a
 * tie the highest such threshold). The normalised score is {@code 100·(S − S_null)/(S_perfect −
 * S_null)}, where the null detector never alerts ({@code S_null = −A_FN·N} for {@code N} counted
 * windows) and the perfect one alerts on each window's first row ({@code S_perfect = A_TP·N}).
 */
public final class NabScore {
    private NabScore() {}

    /** NAB's application profiles: the weights of a detection, a false alarm and a miss. */
    public enum Profile {
        STANDARD("standard", 1.0, 0.11, 1.0),
        REWARD_LOW_FP("reward_low_fp", 1.0, 0.22, 1.0),
        REWARD_LOW_FN("reward_low_fn", 1.0, 0.11, 2.0);

        public final String label;
        public final double truePositive;
        public final double falsePositive;
        public final double falseNegative;

        Profile(String label, double truePositive, double falsePositive, double falseNegative) {
            this.label = label;
            this.truePositive = truePositive;
            this.falsePositive = falsePositive;
            this.falseNegative = falseNegative;
        }
    }

    /** NAB's learning period: this fraction of a file's rows, at most this fraction of 5000. */
    public static final double DEFAULT_PROBATION = 0.15;

    private static final double MAX_TP = scaledSigmoid(-1.0);

    /**
     * NAB's scaled sigmoid of a row's position relative to a window's right edge: 0.9866 at the
     * start of a window ({@code -1}), 0 at its right edge, negative after it and −1 from 3 widths
     * on.
     */
    static double scaledSigmoid(double position) {
        return position > 3.0 ? -1.0 : 2 / (1 + Math.exp(5 * position)) - 1;
    }

    /**
     * One file made ready for scoring: the rows after its learning period, each with the window it
     * falls in (an index into {@link #windows}, or -1) and its unweighted value (the scaled
     * sigmoid).
     */
    record Prepared(
            String file,
            int rows,
            int probationRows,
            List<Window> windows,
            boolean[] counted,
            double[] scores,
            int[] window,
            double[] value) {
        int countedWindows() {
            int n = 0;
            for (boolean c : counted) {
                n += c ? 1 : 0;
            }
            return n;
        }
    }

    /** Assigns each row of a file to its window (if any) and its position weight. */
    static Prepared prepare(String file, List<Score> rows, List<Window> windows, double probation) {
        int n = rows.size();
        int skip = Math.min(AlertWindowReport.probationRows(n, probation), n);
        int[] left = new int[windows.size()];
        int[] right = new int[windows.size()];
        for (int w = 0; w < windows.size(); w++) {
            left[w] = -1;
            right[w] = -1;
            for (int i = 0; i < n; i++) {
                if (windows.get(w).contains(rows.get(i).time())) {
                    if (left[w] < 0) {
                        left[w] = i;
                    }
                    right[w] = i;
                }
            }
        }
        boolean[] counted = new boolean[windows.size()];
        double[] scores = new double[n - skip];
        int[] window = new int[n - skip];
        double[] value = new double[n - skip];
        for (int i = skip; i < n; i++) {
            int in = -1;
            int previous = -1;
            for (int w = 0; w < windows.size(); w++) {
                if (left[w] >= 0 && left[w] <= i && i <= right[w] && in < 0) {
                    in = w;
                } else if (right[w] >= 0
                        && right[w] < i
                        && (previous < 0 || right[w] > right[previous])) {
                    previous = w;
                }
            }
            double v;
            if (in >= 0) {
                counted[in] = true;
                v = scaledSigmoid(-(right[in] - i + 1) / (double) (right[in] - left[in] + 1));
            } else if (previous >= 0) {
                // NAB measures the distance after a window in (width - 1) rows; a one-row window
                // would divide by zero, so it counts as one row.
                double width = Math.max(right[previous] - left[previous], 1);
                v = scaledSigmoid(Math.abs(right[previous] - i) / width);
            } else {
                v = -1.0;
            }
            double s = rows.get(i).score();
            scores[i - skip] = Double.isNaN(s) ? Double.NEGATIVE_INFINITY : s;
            window[i - skip] = in;
            value[i - skip] = v;
        }
        return new Prepared(file, n, skip, windows, counted, scores, window, value);
    }

    /** One file's outcome at a profile's threshold. */
    public record FileScore(
            String file,
            int rows,
            int probationRows,
            int windows,
            int detected,
            int falsePositives,
            double raw) {}

    /** One profile's outcome: its threshold ({@code +∞}: never alert), summed and normalised. */
    public record ProfileScore(
            Profile profile,
            double threshold,
            double raw,
            double nullRaw,
            double perfectRaw,
            double normalized,
            int detected,
            int windows,
            int falsePositives,
            List<FileScore> files) {}

    /** All three profiles, and the labelled files that had no scores file. */
    public record Report(double probation, List<ProfileScore> profiles, List<String> unscored) {}

    /** Scores every {@code *.csv} under {@code scores} against the windows of {@code windows}. */
    public static Report run(Path scores, Path windowsJson, double probation) throws IOException {
        if (!(probation >= 0 && probation < 1)) {
            throw new IllegalArgumentException(
                    "--probation must be a fraction in [0, 1), got " + probation);
        }
        if (!Files.isDirectory(scores)) {
            throw new IllegalArgumentException("--scores " + scores + " is not a folder");
        }
        Map<String, List<Window>> windows = AlertWindowReport.readWindows(windowsJson);
        TreeSet<String> unscored = new TreeSet<>(windows.keySet());
        List<Prepared> files = new ArrayList<>();
        for (Path file : SeriesFiles.csvFiles(scores, "--scores")) {
            String id = scores.relativize(file).toString().replace('\\', '/');
            String key = AlertWindowReport.windowsKey(id, windows);
            unscored.remove(key);
            files.add(
                    prepare(
                            key == null ? id : key,
                            AlertWindowReport.readScores(file),
                            key == null ? List.of() : windows.get(key),
                            probation));
        }
        return score(files, probation, List.copyOf(unscored));
    }

    /** Sweeps the threshold of each profile over the prepared files. */
    static Report score(List<Prepared> files, double probation, List<String> unscored) {
        List<ProfileScore> profiles = new ArrayList<>();
        for (Profile profile : Profile.values()) {
            profiles.add(scoreProfile(files, profile));
        }
        return new Report(probation, profiles, unscored);
    }

    private static ProfileScore scoreProfile(List<Prepared> files, Profile profile) {
        int total = files.stream().mapToInt(f -> f.scores().length).sum();
        int[] fileOf = new int[total];
        int[] rowOf = new int[total];
        int[] windowBase = new int[files.size()];
        int allWindows = 0;
        int counted = 0;
        for (int f = 0, k = 0; f < files.size(); f++) {
            windowBase[f] = allWindows;
            allWindows += files.get(f).windows().size();
            counted += files.get(f).countedWindows();
            for (int i = 0; i < files.get(f).scores().length; i++, k++) {
                fileOf[k] = f;
                rowOf[k] = i;
            }
        }
        Integer[] order = IntStream.range(0, total).boxed().toArray(Integer[]::new);
        Arrays.sort(
                order,
                Comparator.comparingDouble(
                        (Integer k) -> -files.get(fileOf[k]).scores()[rowOf[k]]));
        double[] best = new double[allWindows];
        Arrays.fill(best, Double.NaN);
        double missed = -profile.falseNegative * counted;
        double falseAlarms = 0;
        double detections = 0;
        double bestRaw = missed;
        double threshold = Double.POSITIVE_INFINITY;
        for (int j = 0; j < total; ) {
            double level = files.get(fileOf[order[j]]).scores()[rowOf[order[j]]];
            if (level == Double.NEGATIVE_INFINITY) {
                break;
            }
            for (;
                    j < total && files.get(fileOf[order[j]]).scores()[rowOf[order[j]]] == level;
                    j++) {
                Prepared p = files.get(fileOf[order[j]]);
                int i = rowOf[order[j]];
                if (p.window()[i] < 0) {
                    falseAlarms += profile.falsePositive * p.value()[i];
                } else {
                    int w = windowBase[fileOf[order[j]]] + p.window()[i];
                    double tp = profile.truePositive * p.value()[i] / MAX_TP;
                    if (Double.isNaN(best[w])) {
                        best[w] = tp;
                        detections += tp;
                        missed += profile.falseNegative;
                    } else if (tp > best[w]) {
                        detections += tp - best[w];
                        best[w] = tp;
                    }
                }
            }
            double raw = missed + falseAlarms + detections;
            if (raw > bestRaw) {
                bestRaw = raw;
                threshold = level;
            }
        }
        List<FileScore> perFile = new ArrayList<>();
        double raw = 0;
        int detected = 0;
        int falsePositives = 0;
        for (Prepared p : files) {
            FileScore f = fileScore(p, profile, threshold);
            perFile.add(f);
            raw += f.raw();
            detected += f.detected();
            falsePositives += f.falsePositives();
        }
        double nullRaw = -profile.falseNegative * counted;
        double perfectRaw = profile.truePositive * counted;
        double normalized =
                counted == 0 ? Double.NaN : 100 * (raw - nullRaw) / (perfectRaw - nullRaw);
        return new ProfileScore(
                profile,
                threshold,
                raw,
                nullRaw,
                perfectRaw,
                normalized,
                detected,
                counted,
                falsePositives,
                perFile);
    }

    /** One file's raw score with alerts at {@code threshold} and above. */
    static FileScore fileScore(Prepared p, Profile profile, double threshold) {
        double[] best = new double[p.windows().size()];
        Arrays.fill(best, Double.NaN);
        double raw = 0;
        int falsePositives = 0;
        for (int i = 0; i < p.scores().length; i++) {
            if (!(p.scores()[i] >= threshold)) {
                continue;
            }
            int w = p.window()[i];
            if (w < 0) {
                raw += profile.falsePositive * p.value()[i];
                falsePositives++;
            } else {
                double tp = profile.truePositive * p.value()[i] / MAX_TP;
                best[w] = Double.isNaN(best[w]) ? tp : Math.max(best[w], tp);
            }
        }
        int detected = 0;
        for (int w = 0; w < best.length; w++) {
            if (!p.counted()[w]) {
                continue;
            }
            if (Double.isNaN(best[w])) {
                raw -= profile.falseNegative;
            } else {
                raw += best[w];
                detected++;
            }
        }
        return new FileScore(
                p.file(),
                p.rows(),
                p.probationRows(),
                p.countedWindows(),
                detected,
                falsePositives,
                raw);
    }

    /** The report as Markdown: a row per profile, then the per-file breakdown. */
    public static String markdown(Report report) {
        StringBuilder out = new StringBuilder();
        out.append(
                String.format(
                        Locale.ROOT,
                        "NAB scores; the first %s %% of each file's rows (at most %d) are a"
                                + " learning period; one threshold per profile for all files.%n%n",
                        AlertWindowReport.trim(report.probation() * 100),
                        (int) (report.probation() * 5000)));
        out.append(
                "| profile | score | threshold | raw | null | perfect | windows detected |"
                        + " false positives |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ProfileScore p : report.profiles()) {
            out.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %.2f | %s | %.4f | %.2f | %.2f | %d / %d | %d |%n",
                            p.profile().label,
                            p.normalized(),
                            threshold(p.threshold()),
                            p.raw(),
                            p.nullRaw(),
                            p.perfectRaw(),
                            p.detected(),
                            p.windows(),
                            p.falsePositives()));
        }
        out.append("\nPer file at each profile's threshold: raw score (detected / windows, false");
        out.append(" positives).\n\n| file | rows | learning rows |");
        for (ProfileScore p : report.profiles()) {
            out.append(' ').append(p.profile().label).append(" |");
        }
        out.append("\n|---|---:|---:|");
        out.append("---:|".repeat(report.profiles().size())).append('\n');
        List<FileScore> first = report.profiles().get(0).files();
        for (int f = 0; f < first.size(); f++) {
            FileScore row = first.get(f);
            out.append(
                    String.format(
                            Locale.ROOT,
                            "| %s | %d | %d |",
                            row.file(),
                            row.rows(),
                            row.probationRows()));
            for (ProfileScore p : report.profiles()) {
                FileScore s = p.files().get(f);
                out.append(
                        String.format(
                                Locale.ROOT,
                                " %.3f (%d / %d, %d) |",
                                s.raw(),
                                s.detected(),
                                s.windows(),
                                s.falsePositives()));
            }
            out.append('\n');
        }
        if (!report.unscored().isEmpty()) {
            out.append(
                    String.format(
                            "%nLabelled files without scores (not counted): %s%n",
                            String.join(", ", report.unscored())));
        }
        return out.toString();
    }

    /** The report as a JSON-ready tree; a threshold of "never alert" is {@code null}. */
    public static Map<String, Object> json(Report report) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("probation", report.probation());
        Map<String, Object> profiles = new LinkedHashMap<>();
        for (ProfileScore p : report.profiles()) {
            // In a fixed order, as every map here: Map.of's order changes from run to run, and
            // two runs' files are compared with diff.
            Map<String, Object> weights = new LinkedHashMap<>();
            weights.put("true_positive", p.profile().truePositive);
            weights.put("false_positive", p.profile().falsePositive);
            weights.put("false_negative", p.profile().falseNegative);
            Map<String, Object> profile = new LinkedHashMap<>();
            profile.put("weights", weights);
            profile.put("score", finite(p.normalized()));
            profile.put("threshold", finite(p.threshold()));
            profile.put("raw", p.raw());
            profile.put("null_raw", p.nullRaw());
            profile.put("perfect_raw", p.perfectRaw());
            profile.put("windows", p.windows());
            profile.put("detected", p.detected());
            profile.put("false_positives", p.falsePositives());
            List<Map<String, Object>> files = new ArrayList<>();
            for (FileScore f : p.files()) {
                Map<String, Object> file = new LinkedHashMap<>();
                file.put("file", f.file());
                file.put("rows", f.rows());
                file.put("probation_rows", f.probationRows());
                file.put("windows", f.windows());
                file.put("detected", f.detected());
                file.put("false_positives", f.falsePositives());
                file.put("raw", f.raw());
                files.add(file);
            }
            profile.put("files", files);
            profiles.put(p.profile().label, profile);
        }
        root.put("profiles", profiles);
        root.put("unscored", report.unscored());
        return root;
    }

    private static Double finite(double d) {
        return Double.isFinite(d) ? d : null;
    }

    private static String threshold(double t) {
        return Double.isFinite(t) ? String.format(Locale.ROOT, "%.6g", t) : "never";
    }
}
