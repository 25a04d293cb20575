package io.streamlearn.jobs.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamlearn.jobs.replay.AlertWindowReport.Score;
import io.streamlearn.jobs.replay.AlertWindowReport.Window;
import io.streamlearn.jobs.replay.NabScore.Profile;
import io.streamlearn.jobs.replay.NabScore.ProfileScore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NAB's scoring on generated files with known answers: 1000 five-minute rows (the first 150 a
 * learning period), one window over rows 400-499 unless said otherwise.
 */
class NabScoreTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final int ROWS = 1000;

    private static Instant time(int row) {
        return T0.plusSeconds(300L * row);
    }

    private static Window window(int from, int to) {
        return new Window(time(from), time(to));
    }

    /** Score 0.1 everywhere but the given rows, which score 0.9. */
    private static List<Score> scores(int... high) {
        List<Score> rows = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            double s = 0.1;
            for (int h : high) {
                s = h == r ? 0.9 : s;
            }
            rows.add(new Score(time(r), s));
        }
        return rows;
    }

    private static NabScore.Report score(List<List<Score>> files, List<List<Window>> windows) {
        List<NabScore.Prepared> prepared = new ArrayList<>();
        for (int f = 0; f < files.size(); f++) {
            prepared.add(NabScore.prepare("f" + f, files.get(f), windows.get(f), 0.15));
        }
        return NabScore.score(prepared, 0.15, List.of());
    }

    private static NabScore.Report one(List<Score> file) {
        return score(List.of(file), List.of(List.of(window(400, 499))));
    }

    private static ProfileScore standard(NabScore.Report report) {
        return report.profiles().get(0);
    }

    @Test
    void theLearningPeriodIsFifteenPercentAtMostSevenHundredFiftyRows() {
        assertEquals(150, AlertWindowReport.probationRows(1000, 0.15));
        assertEquals(282, AlertWindowReport.probationRows(1882, 0.15));
        assertEquals(750, AlertWindowReport.probationRows(22695, 0.15));
    }

    @Test
    void theScaledSigmoidRewardsEarlyAndPunishesFarFalseAlarmsFully() {
        assertEquals(0.98661, NabScore.scaledSigmoid(-1), 1e-5);
        assertEquals(0.0, NabScore.scaledSigmoid(0), 1e-12);
        assertEquals(-0.98661, NabScore.scaledSigmoid(1), 1e-5);
        assertEquals(-1.0, NabScore.scaledSigmoid(3.5), 0);
    }

    @Test
    void aDetectorThatNeverAlertsScoresZeroInEveryProfile() {
        NabScore.Report report = one(scores());
        for (ProfileScore p : report.profiles()) {
            assertEquals(0.0, p.normalized(), 1e-9, p.profile().label);
            assertEquals(Double.POSITIVE_INFINITY, p.threshold(), p.profile().label);
            assertEquals(0, p.detected());
        }
    }

    @Test
    void aDetectorThatAlertsOnEachWindowsFirstRowOnlyScoresOneHundred() {
        NabScore.Report report =
                score(
                        List.of(scores(400), scores(200, 700)),
                        List.of(
                                List.of(window(400, 499)),
                                List.of(window(200, 260), window(700, 800))));
        for (ProfileScore p : report.profiles()) {
            assertEquals(100.0, p.normalized(), 1e-9, p.profile().label);
            assertEquals(0.9, p.threshold(), 0, p.profile().label);
            assertEquals(3, p.detected());
            assertEquals(0, p.falsePositives());
        }
    }

    @Test
    void anEarlierDetectionScoresMoreThanALaterOne() {
        double early = standard(one(scores(410))).normalized();
        double late = standard(one(scores(480))).normalized();
        assertTrue(early > late, early + " > " + late);
        assertTrue(late > 0, "a late detection still beats a miss: " + late);
        // Halfway into the window: the sigmoid's value there over its value at the window's start.
        double half = standard(one(scores(450))).raw();
        assertEquals(NabScore.scaledSigmoid(-0.5) / NabScore.scaledSigmoid(-1), half, 1e-12);
    }

    @Test
    void aFalseAlarmRightAfterAWindowCostsLessThanOneFarFromIt() {
        double near = standard(one(scores(400, 505))).raw();
        double far = standard(one(scores(400, 900))).raw();
        assertTrue(near > far, near + " > " + far);
        // Far away (over three widths after the window) costs the full false-positive weight.
        assertEquals(1 - 0.11, far, 1e-12);
        // Before the first window, too.
        assertEquals(1 - 0.11, standard(one(scores(300, 400))).raw(), 1e-12);
    }

    @Test
    void alertsDuringTheLearningPeriodNeitherCountNorCost() {
        ProfileScore p = standard(one(scores(100, 400)));
        assertEquals(100.0, p.normalized(), 1e-9);
        assertEquals(0, p.falsePositives());
    }

    @Test
    void aWindowInsideTheLearningPeriodIsNotCounted() {
        ProfileScore p =
                standard(
                        score(
                                List.of(scores(400)),
                                List.of(List.of(window(50, 100), window(400, 499)))));
        assertEquals(1, p.windows());
        assertEquals(100.0, p.normalized(), 1e-9);
    }

    @Test
    void theSweepPicksTheThresholdThatMaximisesTheSummedScoreOverAllFiles() {
        // Two false alarms score 0.9, the detection at row 410 0.8: alerting at 0.8 costs two
        // false alarms (0.22) and turns a miss (-1) into a detection (about 0.9), so 0.8 wins;
        // 0.1 would alert on every row.
        List<Score> file = new ArrayList<>(scores(200, 300));
        file.set(410, new Score(time(410), 0.8));
        ProfileScore p = standard(one(file));
        assertEquals(0.8, p.threshold(), 0);
        assertEquals(2, p.falsePositives());
        double expected = NabScore.scaledSigmoid(-0.9) / NabScore.scaledSigmoid(-1) - 2 * 0.11;
        assertEquals(expected, p.raw(), 1e-12);
        // With twenty false alarms above it (2.2) the detection (under 2) is not worth it.
        List<Score> noisy =
                new ArrayList<>(scores(IntStream.range(0, 20).map(i -> 160 + 10 * i).toArray()));
        noisy.set(410, new Score(time(410), 0.8));
        ProfileScore quiet = standard(one(noisy));
        assertEquals(Double.POSITIVE_INFINITY, quiet.threshold());
        assertEquals(0.0, quiet.normalized(), 1e-9);
    }

    @Test
    void theProfilesWeighMissesAndFalseAlarmsDifferently() {
        NabScore.Report report = one(scores(300, 480));
        double tp = NabScore.scaledSigmoid(-20 / 100.0) / NabScore.scaledSigmoid(-1);
        assertEquals(Profile.STANDARD, report.profiles().get(0).profile());
        assertEquals(tp - 0.11, report.profiles().get(0).raw(), 1e-12);
        assertEquals(tp - 0.22, report.profiles().get(1).raw(), 1e-12);
        assertEquals(tp - 0.11, report.profiles().get(2).raw(), 1e-12);
        // Normalised: (raw + A_FN) / (A_TP + A_FN).
        assertEquals(100 * (tp - 0.11 + 2) / 3, report.profiles().get(2).normalized(), 1e-9);
    }

    @Test
    void scoresAFolderAgainstAWindowsFileAndWritesTheTables(@TempDir Path dir) throws Exception {
        Path scores = dir.resolve("scores/real");
        Files.createDirectories(scores);
        StringBuilder csv = new StringBuilder("timestamp,value,anomaly_score\n");
        for (int r = 0; r < ROWS; r++) {
            csv.append(Timestamps.PRINTED.format(time(r)))
                    .append(',')
                    .append(r)
                    .append(',')
                    .append(r == 400 ? "0.9" : "0.1")
                    .append('\n');
        }
        Files.writeString(scores.resolve("a.csv"), csv);
        Files.writeString(
                dir.resolve("windows.json"),
                "{\"real/a.csv\": [[\""
                        + Timestamps.PRINTED.format(time(400))
                        + ".000000\", \""
                        + Timestamps.PRINTED.format(time(499))
                        + "\"]], \"real/b.csv\": []}");

        NabScore.Report report =
                NabScore.run(dir.resolve("scores"), dir.resolve("windows.json"), 0.15);

        assertEquals(100.0, standard(report).normalized(), 1e-9);
        assertEquals(List.of("real/b.csv"), report.unscored());
        String table = NabScore.markdown(report);
        assertTrue(table.contains("| standard | 100.00 | 0.900000 |"), table);
        assertTrue(table.contains("| real/a.csv | 1000 | 150 |"), table);
        JsonNode json = new ObjectMapper().valueToTree(NabScore.json(report));
        assertEquals(
                Set.of("standard", "reward_low_fp", "reward_low_fn"),
                Set.copyOf(iterable(json.get("profiles").fieldNames())));
        assertEquals(100.0, json.at("/profiles/standard/score").asDouble(), 1e-9);
        assertEquals(0.11, json.at("/profiles/standard/weights/false_positive").asDouble(), 0);
        assertEquals("real/a.csv", json.at("/profiles/standard/files/0/file").asText());
    }

    @Test
    void aNeverAlertingThresholdIsNullInTheJson() {
        JsonNode json = new ObjectMapper().valueToTree(NabScore.json(one(scores())));
        assertTrue(json.at("/profiles/standard/threshold").isNull());
    }

    @Test
    void rejectsABadProbationAndAMissingFolder(@TempDir Path dir) {
        assertThrows(
                IllegalArgumentException.class,
                () -> NabScore.run(dir, dir.resolve("w.json"), 1.5));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> NabScore.run(dir.resolve("nope"), dir.resolve("w.json"), 0.15));
        assertTrue(e.getMessage().contains("--scores"), e.getMessage());
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
