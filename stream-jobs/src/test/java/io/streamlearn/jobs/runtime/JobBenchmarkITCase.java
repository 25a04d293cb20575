package io.streamlearn.jobs.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code streamlearn bench --job} end to end on a tiny budget: the embedded broker and cluster, the
 * metrics job (exactly once, the default; DeliveryGuaranteeITCase covers the other), the bare loop.
 * Not timed: it checks that the table is printed and that its figures are numbers.
 */
class JobBenchmarkITCase {
    @Test
    void printsARowPerRateAndTheBareLoopRatio() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int code =
                JobBenchmark.run(
                        new String[] {
                            "--feed",
                            "metrics",
                            "--guarantee",
                            "exactly-once",
                            "--rates",
                            "100",
                            "--seconds",
                            "1",
                            "--series",
                            "4"
                        },
                        Map.of("streamlearn.network.buffer-timeout", "20 ms"),
                        new PrintStream(bytes, true, StandardCharsets.UTF_8),
                        new PrintStream(errors, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertEquals(0, code, out + errors.toString(StandardCharsets.UTF_8));

        List<String> rows = out.lines().filter(l -> l.matches("\\s+100\\s.*")).toList();
        assertEquals(1, rows.size(), "one row for the one rate:\n" + out);
        for (String row : rows) {
            // rate, sent, answered/s, answered %, learned %, then three latencies per consumer.
            String[] fields =
                    row.replace("%", " ").replace("|", " ").replace("/", " ").trim().split("\\s+");
            assertEquals(11, fields.length, row);
            // The counts and the read_uncommitted median are always there; a latency nobody saw
            // in the grace period (a loaded machine) is a dash.
            for (int i = 0; i < 11; i++) {
                if (i <= 5 || !fields[i].equals("-")) {
                    Double.parseDouble(fields[i]);
                }
            }
            assertTrue(Double.parseDouble(fields[1]) > 0, "events were sent: " + row);
        }
        assertTrue(out.contains("streamlearn.delivery.guarantee=exactly-once"), out);
        assertTrue(
                out.contains("network buffer timeout 20 ms"), "--config reached the job:\n" + out);
        String ratio =
                out.lines()
                        .filter(l -> l.startsWith("metrics, exactly-once: peak"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no ratio line:\n" + out));
        Double.parseDouble(ratio.replaceAll(".* = ([0-9.]+) of the bare loop .*", "$1"));
        assertTrue(out.contains("bare model loop (no Flink, no Kafka"), out);
    }
}
