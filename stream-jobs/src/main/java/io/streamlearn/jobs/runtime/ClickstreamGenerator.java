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
 * <p>Two options make the stream look more like a shop's (both off by default, and the default
 * stream is the same as before they existed):
 *
 * <ul>
 *   <li>{@link Builder#optPopularSuccessors}: successors are drawn by popularity instead of
 *       uniformly, so that the stream's item frequencies follow the power law too, not only the
 *       first items of sessions (with uniform successors, 80 % of clicks spread evenly over the
 *       catalogue). The ten most frequent items then hold about the share the power law gives them
 *       (over 100,000 items, exponent 1: 0.23 to 0.29 of the events for seeds 7 to 10, Zipf 0.24);
 *       further down the head is heavier than Zipf (the top 1,000: 0.78 against 0.62), as chains
 *       that start among popular items stay among them.
 *   <li>{@link Builder#optSessionLength}: users browse in sessions. A fixed number of users ({@link
 *       Builder#optActiveUsers}) are in a session at any time and each event is one of theirs,
 *       picked at random; after each event the session ends with probability 1 / length (geometric,
 *       mean {@code length} events), and its place goes to a user not in a session, drawn at
 *       random. A session starts with an item drawn by popularity: the Markov chain does not carry
 *       over from a user's previous session.
 * </ul>
 *
 * <p>The cost of an event does not grow with the catalogue beyond a binary search over cumulative
 * weights (O(log items)); building the structure takes O(items * successors).
 *
 * <p>Deterministic for a seed; the structure, the drifted structure and the events use separate
 * random streams, so the events before a drift are the same with or without it.
 */
public final class ClickstreamGenerator {
    private final int users;
    private final double follow;
    private final long driftAt;
    private final double sessionEnd;
    private final int[] sessionUser;
    private final boolean[] inSession;
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
        double[] successorPopularity = b.popularSuccessors ? popularityCdf : null;
        before = successors(b.items, b.successors, successorPopularity, new Random(b.seed));
        after = successors(b.items, b.successors, successorPopularity, new Random(~b.seed * 31));
        random = new Random(b.seed + 1);
        lastItem = new int[users];
        Arrays.fill(lastItem, -1);
        if (b.sessionLength > 0) {
            sessionEnd = 1 / b.sessionLength;
            int active = b.activeUsers > 0 ? b.activeUsers : users;
            sessionUser = new int[active];
            inSession = new boolean[users];
            for (int slot = 0; slot < active; slot++) {
                sessionUser[slot] = slot;
                inSession[slot] = true;
            }
        } else {
            sessionEnd = 0;
            sessionUser = null;
            inSession = null;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The next event. */
    public InteractionEvent next() {
        int[][] table = driftAt >= 0 && count >= driftAt ? after : before;
        int slot = sessionUser == null ? -1 : random.nextInt(sessionUser.length);
        int user = slot < 0 ? random.nextInt(users) : sessionUser[slot];
        int last = lastItem[user];
        int item =
                last >= 0 && random.nextDouble() < follow
                        ? table[last][draw(successorCdf, random)]
                        : draw(popularityCdf, random);
        lastItem[user] = item;
        if (slot >= 0 && random.nextDouble() < sessionEnd) {
            endSession(slot);
        }
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

    /**
     * Ends the session in {@code slot} and gives the slot to a user not in a session, drawn at
     * random (possibly the same user again: a new session). Expected draws: users / (users - active
     * + 1).
     */
    private void endSession(int slot) {
        int ended = sessionUser[slot];
        lastItem[ended] = -1;
        inSession[ended] = false;
        int user = random.nextInt(users);
        while (inSession[user]) {
            user = random.nextInt(users);
        }
        inSession[user] = true;
        sessionUser[slot] = user;
    }

    /** An index drawn with the weights whose normalised cumulative sums are {@code cdf}. */
    private static int draw(double[] cdf, Random random) {
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

    /**
     * For each item, {@code k} distinct successors other than itself, drawn uniformly, or by
     * popularity when {@code popularity} (a cumulative distribution over items) is given.
     */
    private static int[][] successors(int items, int k, double[] popularity, Random random) {
        int[][] table = new int[items][];
        for (int item = 0; item < items; item++) {
            Set<Integer> next = new LinkedHashSet<>();
            while (next.size() < k) {
                int candidate =
                        popularity == null ? random.nextInt(items) : draw(popularity, random);
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
        private boolean popularSuccessors;
        private double sessionLength;
        private int activeUsers;
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

        /**
         * Whether each item's successors are drawn by popularity (the same power law as {@link
         * #optSkew}) rather than uniformly; default false (uniform).
         */
        public Builder optPopularSuccessors(boolean popularSuccessors) {
            this.popularSuccessors = popularSuccessors;
            return this;
        }

        /**
         * Mean events of a session (sessions end at random after each event, geometric), at least
         * 1; default 0: no sessions, every user clicks on and on and users take turns at random.
         */
        public Builder optSessionLength(double sessionLength) {
            this.sessionLength = sessionLength;
            return this;
        }

        /**
         * With sessions, how many users are in a session at any time; default 0: all users. Must
         * not exceed the users.
         */
        public Builder optActiveUsers(int activeUsers) {
            this.activeUsers = activeUsers;
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
            require(
                    sessionLength == 0 || sessionLength >= 1,
                    "sessionLength must be 0 (no sessions) or at least 1, got " + sessionLength);
            require(
                    activeUsers >= 0 && activeUsers <= users,
                    "activeUsers must be in [0, users = " + users + "], got " + activeUsers);
            require(
                    activeUsers == 0 || sessionLength > 0,
                    "activeUsers needs sessions (sessionLength at least 1), got sessionLength "
                            + sessionLength);
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
