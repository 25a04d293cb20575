package io.streamlearn.jobs.feeds;

import io.streamlearn.schemas.AlertHistory;
import io.streamlearn.schemas.AnomalyAlert;
import io.streamlearn.schemas.Recommendation;
import io.streamlearn.schemas.ScoredItem;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The JSON bodies of the feeds' HTTP answers; small enough that no JSON library is needed. */
final class Json {
    private Json() {}

    static String recommendation(Recommendation r) {
        String items =
                r.getItems().stream().map(i -> item(i)).collect(Collectors.joining(",", "[", "]"));
        return "{\"userId\":"
                + string(r.getUserId())
                + ",\"eventTime\":"
                + string(r.getEventTime().toString())
                + ",\"modelVersion\":"
                + r.getModelVersion()
                + ",\"items\":"
                + items
                + "}";
    }

    static String alerts(String seriesId, AlertHistory history) {
        List<AnomalyAlert> alerts = history.getAlerts();
        return "{\"seriesId\":"
                + string(seriesId)
                + ",\"alerts\":"
                + alerts.stream().map(Json::alert).collect(Collectors.joining(",", "[", "]"))
                + "}";
    }

    static String error(String message) {
        return "{\"error\":" + string(message) + "}";
    }

    private static String item(ScoredItem item) {
        return "{\"itemId\":"
                + string(item.getItemId())
                + ",\"score\":"
                + number(item.getScore())
                + "}";
    }

    private static String alert(AnomalyAlert a) {
        return "{\"eventTime\":"
                + string(a.getEventTime().toString())
                + ",\"likelihood\":"
                + number(a.getLikelihood())
                + ",\"threshold\":"
                + number(a.getThreshold())
                + ",\"values\":"
                + a.getValues().stream()
                        .map(Json::number)
                        .collect(Collectors.joining(",", "[", "]"))
                + ",\"modelVersion\":"
                + a.getModelVersion()
                + "}";
    }

    private static String number(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%s", d) : "null";
    }

    static String string(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
