package io.streamlearn.jobs.replay;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Feeds a {@link RankingEvaluation} from the two streams a recommendation run has: the
 * interactions, in time order, and the job's recommendations, which arrive later (at checkpoints)
 * and in each user's order. The job answers every interaction with one list, so a user's n-th list
 * is the one made after the user's n-th interaction, and it is scored against the user's next
 * interaction. Interactions wait here until the list they are scored against has arrived, then go
 * to the evaluation in time order. Not thread-safe.
 */
public final class ListsInOrder {
    private final RankingEvaluation evaluation;
    private final ArrayDeque<Event> events = new ArrayDeque<>();
    private final Map<String, ArrayDeque<List<String>>> lists = new HashMap<>();
    private final Set<String> started = new HashSet<>();
    private long listsReceived;

    public ListsInOrder(RankingEvaluation evaluation) {
        this.evaluation = evaluation;
    }

    private record Event(String userId, String itemId, Instant time) {}

    /** The next interaction in time order. */
    public void interaction(String userId, String itemId, Instant time) {
        events.addLast(new Event(userId, itemId, time));
        drain();
    }

    /** The job's next list for a user, best first. */
    public void list(String userId, List<String> items) {
        lists.computeIfAbsent(userId, u -> new ArrayDeque<>()).addLast(items);
        listsReceived++;
        drain();
    }

    /** Scores every interaction whose list is there, in time order, up to the first that waits. */
    private void drain() {
        while (!events.isEmpty()) {
            Event next = events.peekFirst();
            List<String> list = null;
            if (started.contains(next.userId())) {
                ArrayDeque<List<String>> waiting = lists.get(next.userId());
                if (waiting == null || waiting.isEmpty()) {
                    return;
                }
                list = waiting.pollFirst();
            }
            started.add(next.userId());
            events.pollFirst();
            evaluation.add(next.userId(), next.itemId(), next.time(), list);
        }
    }

    /** Lists received so far. */
    public long lists() {
        return listsReceived;
    }

    /** Interactions waiting for a list. */
    public int waiting() {
        return events.size();
    }

    public RankingEvaluation evaluation() {
        return evaluation;
    }
}
