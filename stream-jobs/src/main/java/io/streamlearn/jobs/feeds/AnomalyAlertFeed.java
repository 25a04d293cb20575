package io.streamlearn.jobs.feeds;

import io.streamlearn.schemas.AlertHistory;
import io.streamlearn.schemas.AnomalyAlert;
import io.streamlearn.schemas.AnomalyScore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Turns anomaly scores into alerts by the {@link AlertRule}: a series alerts when its likelihood
 * reaches the threshold, unless it alerted less than the suppression window ago (in event time), so
 * one incident pages once rather than on every point. The most recent alerts of each series are
 * kept in a persistent, changelogged store that {@link FeedServer} answers {@code GET
 * /series/{id}/alerts} from.
 *
 * <p>The scores topic is keyed by series id, so each series' suppression state lives in one task.
 */
public final class AnomalyAlertFeed {
    public static final String STORE = "recent-alerts";

    private AnomalyAlertFeed() {}

    public static Topology topology(
            String scoresTopic,
            String alertsTopic,
            double threshold,
            Duration suppression,
            int keep) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(
                Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(STORE),
                        Serdes.String(),
                        AvroStreamsSerde.of(AlertHistory.class)));
        builder.stream(
                        scoresTopic,
                        Consumed.with(Serdes.String(), AvroStreamsSerde.of(AnomalyScore.class)))
                .process(() -> new Alerting(new AlertRule(threshold, suppression), keep), STORE)
                .to(
                        alertsTopic,
                        Produced.with(Serdes.String(), AvroStreamsSerde.of(AnomalyAlert.class)));
        return builder.build();
    }

    static final class Alerting implements Processor<String, AnomalyScore, String, AnomalyAlert> {
        private final AlertRule rule;
        private final int keep;
        private ProcessorContext<String, AnomalyAlert> context;
        private KeyValueStore<String, AlertHistory> alerts;

        Alerting(AlertRule rule, int keep) {
            this.rule = rule;
            this.keep = keep;
        }

        @Override
        public void init(ProcessorContext<String, AnomalyAlert> context) {
            this.context = context;
            this.alerts = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, AnomalyScore> record) {
            AnomalyScore score = record.value();
            // Most scores are below the threshold: they need no read of the store.
            if (score == null || !(score.getLikelihood() >= rule.threshold())) {
                return;
            }
            String series = score.getSeriesId();
            AlertHistory history = alerts.get(series);
            List<AnomalyAlert> recent =
                    history == null ? new ArrayList<>() : new ArrayList<>(history.getAlerts());
            Instant last = recent.isEmpty() ? null : recent.get(recent.size() - 1).getEventTime();
            if (!rule.alerts(score.getLikelihood(), score.getEventTime(), last)) {
                return;
            }
            AnomalyAlert alert =
                    AnomalyAlert.newBuilder()
                            .setSeriesId(series)
                            .setEventTime(score.getEventTime())
                            .setLikelihood(score.getLikelihood())
                            .setThreshold(rule.threshold())
                            .setValues(score.getValues())
                            .setModelVersion(score.getModelVersion())
                            .build();
            recent.add(alert);
            if (recent.size() > keep) {
                recent = new ArrayList<>(recent.subList(recent.size() - keep, recent.size()));
            }
            alerts.put(series, new AlertHistory(recent));
            context.forward(record.withKey(series).withValue(alert));
        }
    }
}
