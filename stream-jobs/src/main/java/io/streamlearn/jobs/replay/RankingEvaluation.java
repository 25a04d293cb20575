package io.streamlearn.jobs.replay;

import io.streamlearn.models.metrics.RankingMetrics;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Prequential ranking quality of a recommender on a replayed history, next to two baselines
 * computed on the same events in the same run. Events are given in time order; each is first
 * scored, then learnt by the baselines.
 *
 * <p><b>Which events are scored.</b> An event is scored when its user has an earlier event: the
 * model's list for it is the one made after the user's previous event, before this one. A user's
 * first event is scored for nobody. A scored event the model gave no list for counts as a miss for
 * the model (and is counted in {@code missing_lists}).
 *
 * <p><b>Baselines</b>, from the events before this one: <i>popularity</i>, the K items with the
 * most events so far; <i>transition</i>, the K items that most often came next (for any user) after
 * this user's previous item, filled up from popularity. Ties go to the item seen first in the
 * stream. With {@code excludeSeen}, both skip the items the user has had events with, as the model
 * does with the same option; they fill up from further down their ranking.
 *
 * <p><b>Metrics</b> (see {@link RankingMetrics}; r the 1-based rank of the true item in a list cut
 * at K): HR@K = mean [r ≤ K], NDCG@K = mean [r ≤ K] / log2(r + 1), MRR@K = mean [r ≤ K] / r. {@code
 * metrics.json} holds them over all scored events; {@code curve.csv} over a sliding window of the
 * last {@code window} scored events, a row every {@code step} scored events and one at the end. Not
 * thread-safe.
 */
public final class RankingEvaluation {
    public static final int DEFAULT_WINDOW = 1000;
    public static final int DEFAULT_STEP = 100;

    private static final String[] SYSTEMS = {"model", "popularity", "transition"};

    private final int k;
    private final boolean excludeSeen;
    private final int window;
    private final int step;

    private final Map<String, Integer> itemIndex = new HashMap<>();
    private final List<String> items = new ArrayList<>();
    private final Map<String, Integer> lastItem = new HashMap<>();
    private final Map<String, Set<Integer>> seen = new HashMap<>();
    private final RankedCounts popularity = new RankedCounts();
    private final Map<Integer, RankedCounts> transitions = new HashMap<>();

    private final RankingMetrics[] overall = new RankingMetrics[SYSTEMS.length];
    private final int[][] recentRanks;
    private final List<String> curve = new ArrayList<>();
    private long events;
    private long scored;
    private long missingLists;
    private Instant lastTime;
    private long lastCurveRow = -1;

    /** With the default window ({@value #DEFAULT_WINDOW}) and step ({@value #DEFAULT_STEP}). */
    public RankingEvaluation(int k, boolean excludeSeen) {
        this(k, excludeSeen, DEFAULT_WINDOW, DEFAULT_STEP);
    }

    /**
     * @param k the cut-off, at least 1
     * @param excludeSeen whether the baselines skip items the user has had events with
     * @param window scored events of the curve's sliding window, at least 1
     * @param step scored events between the curve's rows, at least 1
     */
    public RankingEvaluation(int k, boolean excludeSeen, int window, int step) {
        if (k < 1 || window < 1 || step < 1) {
            throw new IllegalArgumentException(
                    "k, window and step must be at least 1, got "
                            + k
                            + ", "
                            + window
                            + ", "
                            + step);
        }
        this.k = k;
        this.excludeSeen = excludeSeen;
        this.window = window;
        this.step = step;
        for (int s = 0; s < SYSTEMS.length; s++) {
            overall[s] = new RankingMetrics(k, Long.MAX_VALUE);
        }
        recentRanks = new int[SYSTEMS.length][window];
    }

    /**
     * Scores one event against the model's list and the baselines, then learns it. Call in time
     * order.
     *
     * @param modelList the model's recommendations for this user made after the user's previous
     *     event, best first; null or empty when there is none
     * @return whether the event was scored (its user had an earlier event)
     */
    public boolean add(String userId, String itemId, Instant time, List<String> modelList) {
        events++;
        lastTime = time;
        Integer item = itemIndex.get(itemId);
        Integer previous = lastItem.get(userId);
        boolean score = previous != null;
        if (score) {
            int[] ranks = {
                modelList == null ? 0 : rank(modelList, itemId),
                item == null ? 0 : popularityList(userId).indexOf(item) + 1,
                item == null ? 0 : transitionList(userId, previous).indexOf(item) + 1
            };
            if (modelList == null || modelList.isEmpty()) {
                missingLists++;
            }
            int slot = (int) (scored % window);
            for (int s = 0; s < SYSTEMS.length; s++) {
                overall[s].addRank(ranks[s]);
                recentRanks[s][slot] = ranks[s];
            }
            scored++;
            if (scored % step == 0) {
                curveRow();
            }
        }
        if (item == null) {
            item = items.size();
            itemIndex.put(itemId, item);
            items.add(itemId);
        }
        popularity.increment(item);
        if (previous != null) {
            transitions.computeIfAbsent(previous, p -> new RankedCounts()).increment(item);
        }
        lastItem.put(userId, item);
        if (excludeSeen) {
            seen.computeIfAbsent(userId, u -> new HashSet<>()).add(item);
        }
        return score;
    }

    private int rank(List<String> list, String itemId) {
        int at = list.indexOf(itemId);
        return at < 0 || at >= k ? 0 : at + 1;
    }

    /** The popularity baseline's list for a user now, as item indexes. */
    private List<Integer> popularityList(String userId) {
        List<Integer> list = new ArrayList<>(k);
        popularity.top(k, seen.getOrDefault(userId, Set.of()), list);
        return list;
    }

    /** The transition baseline's list for a user whose previous item is {@code previous}. */
    private List<Integer> transitionList(String userId, int previous) {
        List<Integer> list = new ArrayList<>(k);
        Set<Integer> skip = seen.getOrDefault(userId, Set.of());
        RankedCounts next = transitions.get(previous);
        if (next != null) {
            next.top(k, skip, list);
        }
        if (list.size() < k) {
            Set<Integer> skipBoth = new HashSet<>(skip);
            skipBoth.addAll(list);
            popularity.top(k, skipBoth, list);
        }
        return list;
    }

    /** The baselines' lists for a user's next event, as item ids. */
    Map<String, List<String>> baselineLists(String userId) {
        Integer previous = lastItem.get(userId);
        return Map.of(
                "popularity",
                ids(popularityList(userId)),
                "transition",
                previous == null ? List.of() : ids(transitionList(userId, previous)));
    }

    private List<String> ids(List<Integer> indexes) {
        return indexes.stream().map(items::get).toList();
    }

    /** HR@K, NDCG@K and MRR@K of one system; NaN before the first scored event. */
    public record Scores(double hr, double ndcg, double mrr) {}

    /** The figures at one moment: events seen, events scored, and each system's scores. */
    public record Figures(
            long events, long scored, Scores model, Scores popularity, Scores transition) {}

    /** Over every scored event so far: what {@code metrics.json} holds. */
    public Figures overall() {
        Scores[] s = new Scores[SYSTEMS.length];
        for (int i = 0; i < SYSTEMS.length; i++) {
            s[i] = new Scores(overall[i].hitRate(), overall[i].ndcg(), overall[i].mrr());
        }
        return new Figures(events, scored, s[0], s[1], s[2]);
    }

    /** Over the last {@code window} scored events (fewer at the start): the curve's figures. */
    public Figures recent() {
        int n = (int) Math.min(scored, window);
        Scores[] s = new Scores[SYSTEMS.length];
        for (int i = 0; i < SYSTEMS.length; i++) {
            RankingMetrics m = new RankingMetrics(k, Long.MAX_VALUE);
            for (int j = 0; j < n; j++) {
                m.addRank(recentRanks[i][j]);
            }
            s[i] = new Scores(m.hitRate(), m.ndcg(), m.mrr());
        }
        return new Figures(events, scored, s[0], s[1], s[2]);
    }

    private void curveRow() {
        Figures f = recent();
        StringBuilder row =
                new StringBuilder()
                        .append(f.events())
                        .append(',')
                        .append(f.scored())
                        .append(',')
                        .append(lastTime == null ? "" : lastTime.toString());
        for (Scores s : List.of(f.model(), f.popularity(), f.transition())) {
            row.append(',').append(number(s.hr()));
            row.append(',').append(number(s.ndcg()));
            row.append(',').append(number(s.mrr()));
        }
        curve.add(row.toString());
        lastCurveRow = scored;
    }

    /** Writes {@code metrics.json} and {@code curve.csv} into {@code output} (created). */
    public void write(Path output) throws IOException {
        Files.createDirectories(output);
        if (scored > 0 && lastCurveRow != scored) {
            curveRow();
        }
        Figures f = overall();
        String json =
                String.format(
                        Locale.ROOT,
                        "{\n"
                                + "  \"events\": %d,\n"
                                + "  \"scored\": %d,\n"
                                + "  \"k\": %d,\n"
                                + "  \"exclude_seen\": %s,\n"
                                + "  \"model\": %s,\n"
                                + "  \"baselines\": {\n"
                                + "    \"popularity\": %s,\n"
                                + "    \"transition\": %s\n"
                                + "  },\n"
                                + "  \"curve\": {\"file\": \"curve.csv\", \"window\": %d, \"step\":"
                                + " %d}\n"
                                + "}\n",
                        events,
                        scored,
                        k,
                        excludeSeen,
                        json(f.model(), ", \"missing_lists\": " + missingLists),
                        json(f.popularity(), ""),
                        json(f.transition(), ""),
                        window,
                        step);
        Files.writeString(output.resolve("metrics.json"), json, StandardCharsets.UTF_8);
        try (BufferedWriter out =
                Files.newBufferedWriter(output.resolve("curve.csv"), StandardCharsets.UTF_8)) {
            StringBuilder header = new StringBuilder("events,scored,time");
            for (String system : SYSTEMS) {
                header.append(',').append(system).append("_hr");
                header.append(',').append(system).append("_ndcg");
                header.append(',').append(system).append("_mrr");
            }
            out.write(header.append('\n').toString());
            for (String row : curve) {
                out.write(row);
                out.write('\n');
            }
        }
    }

    private static String json(Scores s, String more) {
        return "{\"hr\": "
                + number(s.hr())
                + ", \"ndcg\": "
                + number(s.ndcg())
                + ", \"mrr\": "
                + number(s.mrr())
                + more
                + "}";
    }

    private static String number(double d) {
        return Double.isNaN(d) ? "null" : String.format(Locale.ROOT, "%.6f", d);
    }

    /**
     * Counts per item, iterable from the most frequent: a tree ordered by count (descending), then
     * item index (first seen first), updated in O(log n) per event.
     */
    private static final class RankedCounts {
        private final Map<Integer, Integer> counts = new HashMap<>();
        private final TreeSet<Integer> ranked =
                new TreeSet<>(
                        Comparator.comparingInt((Integer i) -> -counts.get(i))
                                .thenComparingInt(i -> i));

        void increment(int item) {
            Integer count = counts.get(item);
            if (count != null) {
                ranked.remove(item);
            }
            counts.put(item, count == null ? 1 : count + 1);
            ranked.add(item);
        }

        /** Appends the most frequent items, skipping {@code skip}, until {@code into} has k. */
        void top(int k, Set<Integer> skip, List<Integer> into) {
            for (Integer item : ranked) {
                if (into.size() >= k) {
                    return;
                }
                if (!skip.contains(item)) {
                    into.add(item);
                }
            }
        }
    }
}
