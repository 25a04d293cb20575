package io.streamlearn.jobs.feeds;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AlertRuleTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void alertsAtOrAboveTheThresholdOncePerSuppressionWindow() {
        AlertRule rule = new AlertRule(0.9, Duration.ofMinutes(10));

        assertTrue(rule.alerts(0.9, T0, null), "at the threshold alerts");
        assertFalse(rule.alerts(0.899, T0, null), "below does not");
        assertFalse(rule.alerts(Double.NaN, T0, null), "NaN never alerts");
        assertFalse(rule.alerts(1.0, T0.plusSeconds(599), T0), "9m59s after an alert: suppressed");
        assertTrue(rule.alerts(1.0, T0.plusSeconds(600), T0), "10 minutes after: alerts again");
        assertTrue(new AlertRule(0.9, Duration.ZERO).alerts(0.95, T0, T0), "no suppression");
    }

    @Test
    void refusesSettingsOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> new AlertRule(0, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new AlertRule(1.5, Duration.ZERO));
        assertThrows(
                IllegalArgumentException.class, () -> new AlertRule(0.5, Duration.ofSeconds(-1)));
    }
}
