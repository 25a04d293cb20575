package io.streamlearn.jobs.replay;

import io.streamlearn.jobs.runtime.ClickstreamGenerator;
import io.streamlearn.models.Batch;
import io.streamlearn.models.ModelConfig;
import io.streamlearn.models.OnlineLearner;
import io.streamlearn.models.Recommender;
import io.streamlearn.models.ScoredItem;
import io.streamlearn.schemas.InteractionEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The recommendation job's learning loop without Flink, on the generated clickstream with a drift
 * half-way, for measuring a next-item model quickly: per event, the user's list made after the
 * previous event is scored ({@link RankingEvaluation}, next to the popularity and transition
 * baselines), the event joins a mini-batch of (last {@code window} items, this item) examples, a
 * full batch is one optimizer step, every {@code publishEvery} steps the new model serves, and the
 * serving model makes the user's next list. As the job with event-time alignment, but without the
 * promotion guard (every published version serves).
 */
final class NextItemPrequential {

    /** Figures of one run: overall, each half, and how fast the model recovers from the drift. */
    record Result(
            RankingEvaluation.Figures overall,
            RankingEvaluation.Scores[] beforeDrift,
            RankingEvaluation.Scores[] afterDrift,
            RankingEvaluation.Scores[] end,
            long modelRecovery,
            long transitionRecovery) {

        String table(String label) {
            StringBuilder s = new StringBuilder();
            s.append(
                    String.format(
                            Locale.ROOT,
                            "%s%n  %-22s %-20s %-20s %-20s%n",
                            label,
                            "HR@10 / NDCG / MRR",
                            "model",
                            "popularity",
                            "transition"));
            row(s, "overall", overall.model(), overall.popularity(), overall.transition());
            row(s, "before the drift", beforeDrift[0], beforeDrift[1], beforeDrift[2]);
            row(s, "after the drift", afterDrift[0], afterDrift[1], afterDrift[2]);
            row(s, "last 500 events", end[0], end[1], end[2]);
            s.append(
                    String.format(
                            Locale.ROOT,
                            "  recovery (events after the drift until the last 500 reach 90%% of"
                                    + " the pre-drift HR): model %d, transition %d%n",
                            modelRecovery,
                            transitionRecovery));
            return s.toString();
        }

        private static void row(
                StringBuilder s,
                String name,
                RankingEvaluation.Scores m,
                RankingEvaluation.Scores p,
                RankingEvaluation.Scores t) {
            s.append(String.format(Locale.ROOT, "  %-22s", name));
            for (RankingEvaluation.Scores x : List.of(m, p, t)) {
                s.append(
                        String.format(
                                Locale.ROOT, " %.3f/%.3f/%.3f    ", x.hr(), x.ndcg(), x.mrr()));
            }
            s.append('\n');
        }
    }

    private NextItemPrequential() {}

    /**
     * Runs the loop on the default generated clickstream.
     *
     * @param config a NEXT_ITEM config
     * @param seed the generator's seed (default settings otherwise)
     * @param events events in all; the drift is at half of them
     * @param batchSize examples per optimizer step
     * @param publishEvery steps between served versions
     * @param excludeSeen whether lists skip every item the user has had
     */
    static Result run(
            ModelConfig config,
            long seed,
            int events,
            int batchSize,
            int publishEvery,
            boolean excludeSeen) {
        return run(
                config,
                ClickstreamGenerator.builder().optSeed(seed),
                events,
                batchSize,
                publishEvery,
                excludeSeen);
    }

    /**
     * Runs the loop on a generated clickstream of other settings.
     *
     * @param config a NEXT_ITEM config
     * @param stream the generator's settings; the drift is set at half of the events
     * @param events events in all
     * @param batchSize examples per optimizer step
     * @param publishEvery steps between served versions
     * @param excludeSeen whether lists skip every item the user has had
     */
    static Result run(
            ModelConfig config,
            ClickstreamGenerator.Builder stream,
            int events,
            int batchSize,
            int publishEvery,
            boolean excludeSeen) {
        ClickstreamGenerator generator = stream.optDriftAt(events / 2).build();
        int k = 10;
        RankingEvaluation evaluation = new RankingEvaluation(k, excludeSeen);
        RankingEvaluation recent = new RankingEvaluation(k, excludeSeen, 500, 100);
        Map<String, Deque<String>> histories = new HashMap<>();
        Map<String, Set<String>> seen = new HashMap<>();
        Map<String, List<String>> lists = new HashMap<>();
        List<String[]> windows = new ArrayList<>();
        List<String> next = new ArrayList<>();
        RankingEvaluation.Figures atDrift = null;
        double modelBefore = Double.NaN;
        double transitionBefore = Double.NaN;
        long modelRecovery = -1;
        long transitionRecovery = -1;
        long steps = 0;
        try (OnlineLearner learner = new OnlineLearner(config)) {
            Recommender serving = null;
            try {
                for (int i = 0; i < events; i++) {
                    if (i == events / 2) {
                        atDrift = evaluation.overall();
                        RankingEvaluation.Figures r = recent.recent();
                        modelBefore = r.model().hr();
                        transitionBefore = r.transition().hr();
                    }
                    InteractionEvent e = generator.next();
                    String user = e.getUserId().toString();
                    String item = e.getItemId().toString();
                    List<String> list = lists.get(user);
                    evaluation.add(user, item, e.getEventTime(), list);
                    recent.add(user, item, e.getEventTime(), list);
                    if (i > events / 2 && i % 100 == 0) {
                        RankingEvaluation.Figures r = recent.recent();
                        if (modelRecovery < 0 && r.model().hr() >= 0.9 * modelBefore) {
                            modelRecovery = i - events / 2;
                        }
                        if (transitionRecovery < 0
                                && r.transition().hr() >= 0.9 * transitionBefore) {
                            transitionRecovery = i - events / 2;
                        }
                    }
                    Deque<String> h = histories.computeIfAbsent(user, u -> new ArrayDeque<>());
                    if (!h.isEmpty()) {
                        windows.add(h.toArray(new String[0]));
                        next.add(item);
                    }
                    h.addLast(item);
                    if (h.size() > config.window()) {
                        h.removeFirst();
                    }
                    seen.computeIfAbsent(user, u -> new HashSet<>()).add(item);
                    if (windows.size() == batchSize) {
                        learner.train(
                                Batch.items(
                                        windows.toArray(new String[0][]),
                                        next.toArray(new String[0])));
                        windows.clear();
                        next.clear();
                        steps++;
                        if (steps % publishEvery == 0) {
                            if (serving != null) {
                                serving.close();
                            }
                            serving = Recommender.create(learner.snapshot());
                        }
                    }
                    if (serving != null) {
                        List<Collection<String>> exclude =
                                excludeSeen ? List.of(seen.get(user)) : null;
                        lists.put(
                                user,
                                serving
                                        .recommend(
                                                new String[][] {h.toArray(new String[0])},
                                                k,
                                                exclude)
                                        .items(0)
                                        .stream()
                                        .map(ScoredItem::itemId)
                                        .toList());
                    }
                }
            } finally {
                if (serving != null) {
                    serving.close();
                }
            }
        }
        RankingEvaluation.Figures all = evaluation.overall();
        RankingEvaluation.Figures last = recent.recent();
        RankingEvaluation.Scores[] before = {
            atDrift.model(), atDrift.popularity(), atDrift.transition()
        };
        RankingEvaluation.Scores[] after = {
            minus(all.model(), all.scored(), atDrift.model(), atDrift.scored()),
            minus(all.popularity(), all.scored(), atDrift.popularity(), atDrift.scored()),
            minus(all.transition(), all.scored(), atDrift.transition(), atDrift.scored())
        };
        RankingEvaluation.Scores[] end = {last.model(), last.popularity(), last.transition()};
        return new Result(all, before, after, end, modelRecovery, transitionRecovery);
    }

    /** The means over the events after a point, from the means over all and up to it. */
    private static RankingEvaluation.Scores minus(
            RankingEvaluation.Scores all, long n, RankingEvaluation.Scores first, long m) {
        return new RankingEvaluation.Scores(
                (all.hr() * n - first.hr() * m) / (n - m),
                (all.ndcg() * n - first.ndcg() * m) / (n - m),
                (all.mrr() * n - first.mrr() * m) / (n - m));
    }
}
