package io.streamlearn.jobs.runtime;

import io.streamlearn.schemas.InteractionEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.IntToDoubleFunction;

/**
 * A clickstream with Markov structure for the recommendation feed's demo, tests and replays. Each
 * event picks a user at random; the user's next item is, with probability {@code follow}, one of
 * the likely successors of the user's last item (the first most likely: weights 1, 1/2, 1/3, ...),
 * and otherwise (and for a user's first event) an item drawn by popularity: item {@code r} with
 * weight {@code 1 / (r + 1)^skew}. Successors are drawn uniformly, so a next-item model that learns
 * them reaches an HR@10 far above the most popular items'. Event time starts at {@code start} and
 * advances by {@code step} per event.
 *
 * <p>A drift at event {@code driftAt} replaces every item's successors with new ones: the structure
 * a model learnt is wrong from then on. With more successors than half of K, a baseline that counts
 * transitions and never forgets cannot list both the old and the new successors, so only a model
 * that adapts recovers fully.
 *
 * <p>Deterministic for a seed; the structure, the drifted structure and the events use separate
 * random streams, so the events before a drift are the same with or without it.
 */
public final class ClickstreamGenerator {
    private final int users;
    private final double follow;
    private final long driftAt;
    private final Instant start;
    private final Duration step;
    private final double[] popularityCdf;
    private final double[] successorCdf;
    private final int[][] before;
    private final int[][] after;
    private final Random random;
    private final int[] lastItem;
    private long count;

    private ClickstreamGenerator(Builder b) {
        users = b.users;
        follow = b.follow;
        driftAt = b.driftAt;
        start = b.start;
        step = b.step;
        popularityCdf = cdf(b.items, r -> Math.pow(r + 1, -b.skew));
        successorCdf = cdf(b.successors, j -> 1.0 / (j + 1));
        before = successors(b.items, b.successors, new Random(b.seed));
        after = successors(b.items, b.successors, new Random(~b.seed * 31));
        random = new Random(b.seed + 1);
        lastItem = new int[users];
        Arrays.fill(lastItem, -1);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The next event. */
    public InteractionEvent next() {
        int[][] table = driftAt >= 0 && count >= driftAt ? after : before;
        int user = random.nextInt(users);
        int last = lastItem[user];
        int item =
                last >= 0 && random.nextDouble() < follow
                        ? table[last][draw(successorCdf)]
                        : draw(popularityCdf);
        lastItem[user] = item;
        Instant time = start.plus(step.multipliedBy(count));
        count++;
        return InteractionEvent.newBuilder()
                .setUserId(userId(user))
                .setItemId(itemId(item))
                .setEventTime(time)
                .build();
    }

    /** The next {@code n} events. */
    public List<InteractionEvent> next(int n) {
        List<InteractionEvent> events = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            events.add(next());
        }
        return events;
    }

    /** Events generated so far. */
    public long count() {
        return count;
    }

    /** The likely successors of an item for the next event, most likely first. */
    public List<String> likelyNext(String itemId) {
        int item = Integer.parseInt(itemId.substring("item-".length()));
        int[][] table = driftAt >= 0 && count >= driftAt ? after : before;
        return Arrays.stream(table[item]).mapToObj(ClickstreamGenerator::itemId).toList();
    }

    public static String userId(int index) {
        return "user-" + index;
    }

    public static String itemId(int index) {
        return "item-" + index;
    }

    private int draw(double[] cdf) {
        int at = Arrays.binarySearch(cdf, random.nextDouble());
        return Math.min(at >= 0 ? at : -at - 1, cdf.length - 1);
    }

    private static double[] cdf(int n, IntToDoubleFunction weight) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += weight.applyAsDouble(i);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
        return cdf;
    }

    /** For each item, {@code k} distinct successors other than itself, drawn uniformly. */
    private static int[][] successors(int items, int k, Random random) {
        int[][] table = new int[items][];
        for (int item = 0; item < items; item++) {
            Set<Integer> next = new LinkedHashSet<>();
            while (next.size() < k) {
                int candidate = random.nextInt(items);
                if (candidate != item) {
                    next.add(candidate);
                }
            }
            table[item] = next.stream().mapToInt(Integer::intValue).toArray();
        }
        return table;
    }

    /** Settings of a {@link ClickstreamGenerator}; every one has a default. */
    public static final class Builder {
        private int users = 50;
        private int items = 200;
        private int successors = 6;
        private double follow = 0.8;
        private double skew = 1.0;
        private long seed = 7;
        private long driftAt = -1;
        private Instant start = Instant.parse("2026-01-01T00:00:00Z");
        private Duration step = Duration.ofSeconds(1);

        private Builder() {}

        /** Users taking turns at random; default 50. */
        public Builder optUsers(int users) {
            this.users = users;
            return this;
        }

        /** Items; default 200. */
        public Builder optItems(int items) {
            this.items = items;
            return this;
        }

        /** Likely successors of each item; default 6. */
        public Builder optSuccessors(int successors) {
            this.successors = successors;
            return this;
        }

        /** Probability that the next item is a successor of the last; default 0.8. */
        public Builder optFollow(double follow) {
            this.follow = follow;
            return this;
        }

        /** Exponent of the popularity's power law (0: uniform); default 1. */
        public Builder optSkew(double skew) {
            this.skew = skew;
            return this;
        }

        /** Seed of everything random; default 7. */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The 0-based event from which the successors change; default none. */
        public Builder optDriftAt(long event) {
            this.driftAt = event;
            return this;
        }

        /** Event time of the first event; default 2026-01-01T00:00:00Z. */
        public Builder optStart(Instant start) {
            this.start = start;
            return this;
        }

        /** Event time between events; default one second. */
        public Builder optStep(Duration step) {
            this.step = step;
            return this;
        }

        /**
         * @throws IllegalArgumentException naming the setting out of range
         */
        public ClickstreamGenerator build() {
            require(users >= 1, "users must be at least 1, got " + users);
            require(items >= 2, "items must be at least 2, got " + items);
            require(
                    successors >= 1 && successors < items,
                    "successors must be in [1, items), got " + successors);
            require(follow >= 0 && follow <= 1, "follow must be in [0, 1], got " + follow);
            require(skew >= 0, "skew must be at least 0, got " + skew);
            require(!step.isNegative(), "step must not be negative, got " + step);
            return new ClickstreamGenerator(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
