package io.streamlearn.e2e;

import java.time.Duration;
import java.util.function.Supplier;

/** Waits on a condition (a REST answer, a record count), never on a fixed sleep. */
final class Await {
    private Await() {}

    /** Polls {@code check} every 100 ms until it returns a non-null value; fails after timeout. */
    static <T> T until(Supplier<T> check, Duration timeout, Supplier<String> what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                T value = check.get();
                if (value != null) {
                    return value;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what.get(), e);
            }
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what.get(), last);
    }

    static void until(BooleanCheck check, Duration timeout, Supplier<String> what) {
        until(() -> check.holds() ? Boolean.TRUE : null, timeout, what);
    }

    /** A condition that may throw while the system is not ready yet. */
    interface BooleanCheck {
        boolean holds();
    }
}
