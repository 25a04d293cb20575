package io.streamlearn.jobs.replay;

import io.streamlearn.jobs.JobSettings;
import io.streamlearn.jobs.Jobs;
import io.streamlearn.jobs.feeds.FeedOptions;
import io.streamlearn.jobs.runtime.EmbeddedRuntime;
import io.streamlearn.jobs.runtime.EventProducer;
import io.streamlearn.schemas.AnomalyScore;
import io.streamlearn.schemas.AvroSerde;
import io.streamlearn.schemas.MetricEvent;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.configuration.Configuration;

/**
 * {@code streamlearn replay anomaly}: the metrics job, with its anomaly scores, backtested on CSV
 * series ({@link SeriesFiles}). Every row of every file becomes a metric event of the series named
 * by the file's path; events go in in time order, and with event-time alignment each row's score
 * comes from a model that has learned only from earlier rows, and from the series' own earlier
 * scores. The scores are written back next to the rows, one per row, in the file's order.
 */
public final class AnomalyReplay {
    private AnomalyReplay() {}

    /** A metric event of a series of its own, just after the last row: the end of the input. */
    private static EventProducer.Message endMarker(
            List<SeriesFiles.SeriesRow> rows, AvroSerde<MetricEvent> serde) {
        Instant last = rows.isEmpty() ? Instant.EPOCH : rows.get(rows.size() - 1).row().time();
        MetricEvent marker =
                MetricEvent.newBuilder()
                        .setSeriesId(ReplayRun.END_OF_INPUT)
                        .setEventTime(last.plusMillis(1))
                        .setValues(List.of(0.0))
                        .build();
        return new EventProducer.Message(ReplayRun.END_OF_INPUT, serde.encode(marker));
    }

    /**
     * @param keys job keys ({@code streamlearn.*}) on top of the defaults, e.g. the model family
     */
    public static void run(Path input, Path output, Map<String, String> keys, PrintStream out)
            throws Exception {
        List<SeriesFiles.Series> series = SeriesFiles.read(input);
        List<SeriesFiles.SeriesRow> rows = SeriesFiles.inTimeOrder(series);
        AvroSerde<MetricEvent> serde = AvroSerde.of(MetricEvent.class);
        List<EventProducer.Message> messages = new ArrayList<>(rows.size());
        for (SeriesFiles.SeriesRow r : rows) {
            MetricEvent event =
                    MetricEvent.newBuilder()
                            .setSeriesId(r.seriesId())
                            .setEventTime(r.row().time())
                            .setValues(List.of(r.row().number()))
                            .build();
            messages.add(new EventProducer.Message(r.seriesId(), serde.encode(event)));
        }
        out.printf(
                Locale.ROOT,
                "streamlearn replay anomaly: %d series, %d rows from %s%n",
                series.size(),
                rows.size(),
                input);
        RejectedRow.report(
                series.stream().flatMap(s -> s.rejected().stream()).toList(), output, out);

        // Each series' scores arrive in its time order: the job keeps each series' order.
        Map<String, List<Double>> scores = new HashMap<>();
        AvroSerde<AnomalyScore> scoreSerde = AvroSerde.of(AnomalyScore.class);
        long[] high = new long[1];
        double alertAt = FeedOptions.ALERT_THRESHOLD.defaultValue();
        long[] version = new long[1];
        try (EmbeddedRuntime runtime = EmbeddedRuntime.start()) {
            Configuration conf = ReplayRun.configuration(runtime, keys);
            JobSettings settings = JobSettings.from(conf);
            if (settings.recommends()) {
                throw new IllegalArgumentException(
                        "replay anomaly needs a metrics model, not streamlearn.model.task"
                                + " next-item");
            }
            ReplayRun.run(
                    runtime,
                    conf,
                    settings,
                    messages,
                    endMarker(rows, serde),
                    Jobs::buildAnomalyScoresWithKafka,
                    settings.anomalyScoresTopic(),
                    bytes -> {
                        AnomalyScore s = scoreSerde.decode(bytes);
                        scores.computeIfAbsent(s.getSeriesId(), id -> new ArrayList<>())
                                .add(s.getLikelihood());
                        if (s.getLikelihood() >= alertAt) {
                            high[0]++;
                        }
                        version[0] = Math.max(version[0], s.getModelVersion());
                    },
                    () ->
                            String.format(
                                    Locale.ROOT,
                                    "model v%d | scores >= %s: %d",
                                    version[0],
                                    alertAt,
                                    high[0]),
                    out);
        }

        for (SeriesFiles.Series s : series) {
            List<Double> got = scores.getOrDefault(s.id(), List.of());
            // The rows of this series in the order they went in: time order, ties in file order.
            List<SeriesFiles.Row> inOrder =
                    rows.stream()
                            .filter(r -> r.seriesId().equals(s.id()))
                            .map(SeriesFiles.SeriesRow::row)
                            .toList();
            double[] perRow = new double[s.rows().size()];
            for (int i = 0; i < inOrder.size(); i++) {
                perRow[inOrder.get(i).index()] = got.get(i);
            }
            SeriesFiles.write(output, s, perRow);
        }
        out.printf(
                Locale.ROOT,
                "streamlearn replay anomaly: %d files written under %s%n",
                series.size(),
                output);
    }
}
