package io.streamlearn.models;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;

/**
 * A synthetic clickstream with Markov structure: users take turns, and each user's next item
 * follows their last one by a fixed rule with probability 0.6, a second rule with probability 0.25,
 * and is drawn at random otherwise (popularity skewed towards low ids). Deterministic per seed.
 */
final class Clickstream {

    private final int items;
    private final Random random;
    private final List<Deque<String>> histories = new ArrayList<>();
    private final int keep;
    private int nextUser;

    Clickstream(long seed, int users, int items, int keep) {
        this.items = items;
        this.keep = keep;
        this.random = new Random(seed);
        for (int u = 0; u < users; u++) {
            Deque<String> h = new ArrayDeque<>();
            h.add(id(random.nextInt(items)));
            histories.add(h);
        }
    }

    static String id(int item) {
        return "item-" + item;
    }

    /** One event: a user's history before it, and the item the user clicks. */
    record Event(String[] history, String next) {}

    Event next() {
        Deque<String> h = histories.get(nextUser);
        nextUser = (nextUser + 1) % histories.size();
        int last = Integer.parseInt(h.peekLast().substring(5));
        double u = random.nextDouble();
        int item;
        if (u < 0.6) {
            item = (last * 7 + 3) % items;
        } else if (u < 0.85) {
            item = (last * 13 + 5) % items;
        } else {
            double v = random.nextDouble();
            item = (int) (items * v * v);
        }
        String[] history = h.toArray(new String[0]);
        h.addLast(id(item));
        if (h.size() > keep) {
            h.removeFirst();
        }
        return new Event(history, id(item));
    }

    Batch batch(int size) {
        String[][] histories = new String[size][];
        String[] next = new String[size];
        for (int i = 0; i < size; i++) {
            Event e = next();
            histories[i] = e.history();
            next[i] = e.next();
        }
        return Batch.items(histories, next);
    }
}
