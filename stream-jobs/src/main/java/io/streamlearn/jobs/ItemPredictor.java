package io.streamlearn.jobs;

import io.streamlearn.jobs.device.DeviceMode;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.ModelState;
import io.streamlearn.models.Recommender;
import io.streamlearn.models.metrics.RankingMetrics;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import io.streamlearn.state.DurableState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * Recommends each user's next items after every interaction, with the served next-item model
 * ({@link ModelServing} decides which, and when): the top {@code k} items for the user's history,
 * with their scores and the model version, as a {@link Recommendation}.
 *
 * <p>Prequential: before recommending it scores the list it made after the user's previous
 * interaction against the item that just arrived, and exports HR@K, NDCG@K and MRR (an
 * exponentially weighted mean over about the last 1000 lists, {@link RankingMetrics}) as the gauges
 * {@code hitRate}, {@code ndcg} and {@code mrr}.
 *
 * <p>With {@code excludeSeen} the items the user has interacted with (the most recent {@code
 * seenCapacity} distinct ones, kept in keyed state) are left out of the list, which stays {@code k}
 * long as long as the model knows enough items. The last list and the seen items of a user who has
 * gone quiet expire after the time-to-live. Each event is one pass over the user's window
 * (recurrent families do not carry a hidden state here), computed in a batch with the events of
 * other users that arrive together ({@link ModelServing}).
 */
public class ItemPredictor extends ModelServing<ItemQuery, ItemPredictor.Answer, Recommendation> {
    private static final long serialVersionUID = 1L;

    /** Lists the ranking gauges average over. */
    private static final long METRIC_HORIZON = 1000;

    private final int k;
    private final boolean excludeSeen;
    private final int seenCapacity;
    private final Duration ttl;
    private transient ValueState<String[]> lastList;
    private transient ValueState<String[]> seen;
    private transient Recommender recommender;
    private transient RankingMetrics ranking;
    private transient long servingVersion;

    /** The job's predictor. */
    public ItemPredictor(JobSettings settings, ModelState warmStart) {
        this(
                settings.model(),
                settings.timeAlignment(),
                200,
                settings.recommend(),
                settings.stateTtl(),
                warmStart,
                settings.devices().predictor(),
                settings.batching());
    }

    ItemPredictor(
            ModelConfig config,
            TimeAlignment alignment,
            long retryMillis,
            JobSettings.Recommend recommend,
            Duration ttl,
            ModelState warmStart,
            DeviceMode device,
            Batching batching) {
        super(
                TypeInformation.of(ItemQuery.class),
                config,
                alignment,
                retryMillis,
                warmStart,
                device,
                batching);
        this.k = recommend.k();
        this.excludeSeen = recommend.excludeSeen();
        this.seenCapacity = recommend.seenCapacity();
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        super.open(openContext);
        ValueStateDescriptor<String[]> last =
                new ValueStateDescriptor<>(
                        "last-recommendation", BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO);
        ValueStateDescriptor<String[]> seenItems =
                new ValueStateDescriptor<>("seen-items", BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO);
        DurableState.ttl(ttl)
                .ifPresent(
                        config -> {
                            last.enableTimeToLive(config);
                            seenItems.enableTimeToLive(config);
                        });
        lastList = getRuntimeContext().getState(last);
        seen = getRuntimeContext().getState(seenItems);
        ranking = new RankingMetrics(k, METRIC_HORIZON);
        var metrics = getRuntimeContext().getMetricGroup();
        metrics.gauge("modelVersion", () -> servingVersion);
        metrics.gauge("hitRate", ranking::hitRate);
        metrics.gauge("ndcg", ranking::ndcg);
        metrics.gauge("mrr", ranking::mrr);
    }

    @Override
    protected long eventTime(ItemQuery query) {
        return query.eventTime;
    }

    /** One query on its way through a batch: the items to leave out, then the model's list. */
    static final class Answer {
        private final ItemQuery query;
        private final Set<String> exclude;
        private List<io.streamlearn.models.ScoredItem> top;

        private Answer(ItemQuery query, Set<String> exclude) {
            this.query = query;
            this.exclude = exclude;
        }
    }

    @Override
    protected Answer prepare(ItemQuery query, ModelState model) throws Exception {
        servingVersion = model.version();
        return new Answer(query, excludeSeen ? rememberSeen(query.itemId) : null);
    }

    /** Each list is one pass over the user's window: none needs the previous answer. */
    @Override
    protected boolean chainsAnswers(ModelState model) {
        return false;
    }

    @Override
    protected void compute(List<Answer> batch, ModelState model) {
        String[][] histories = new String[batch.size()][];
        List<Set<String>> exclude = excludeSeen ? new ArrayList<>(batch.size()) : null;
        for (int i = 0; i < histories.length; i++) {
            histories[i] = batch.get(i).query.history;
            if (exclude != null) {
                exclude.add(batch.get(i).exclude);
            }
        }
        var lists = recommenderFor(model).recommend(histories, k, exclude);
        for (int i = 0; i < histories.length; i++) {
            batch.get(i).top = lists.items(i);
        }
    }

    @Override
    protected void complete(Answer answer, ModelState model, Answers<Recommendation> out)
            throws Exception {
        String[] previous = lastList.value();
        if (previous != null) {
            ranking.add(Arrays.asList(previous), answer.query.itemId);
        }
        List<ScoredItem> items = new ArrayList<>(answer.top.size());
        String[] ids = new String[answer.top.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = answer.top.get(i).itemId();
            items.add(new ScoredItem(ids[i], (double) answer.top.get(i).score()));
        }
        lastList.update(ids);
        out.collect(
                Recommendation.newBuilder()
                        .setUserId(answer.query.userId)
                        .setEventTime(Instant.ofEpochMilli(answer.query.eventTime))
                        .setItems(items)
                        .setModelVersion(model.version())
                        .build());
    }

    /** Adds an item to the user's seen items (most recent last, bounded); returns them. */
    private Set<String> rememberSeen(String item) throws Exception {
        String[] stored = seen.value();
        LinkedHashSet<String> items = new LinkedHashSet<>();
        if (stored != null) {
            items.addAll(Arrays.asList(stored));
        }
        items.remove(item);
        items.add(item);
        String[] kept = items.toArray(new String[0]);
        if (kept.length > seenCapacity) {
            kept = Arrays.copyOfRange(kept, kept.length - seenCapacity, kept.length);
        }
        seen.update(kept);
        return new LinkedHashSet<>(Arrays.asList(kept));
    }

    private Recommender recommenderFor(ModelState model) {
        if (recommender == null || recommender.version() != model.version()) {
            if (recommender != null) {
                recommender.close();
            }
            recommender = Recommender.create(model, inferenceDevice);
        }
        return recommender;
    }

    @Override
    public void close() throws Exception {
        super.close();
        if (recommender != null) {
            recommender.close();
            recommender = null;
        }
    }
}
