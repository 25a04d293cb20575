package io.streamlearn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamlearn.models.metrics.ErrorMetrics;
import io.streamlearn.models.metrics.Ewma;
import io.streamlearn.models.metrics.RankingMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void ewmaAveragesEquallyUntilItsHorizonThenForgets() {
        Ewma e = new Ewma(4);
        assertTrue(Double.isNaN(e.value()));
        e.add(1);
        e.add(3);
        assertEquals(2, e.value(), 1e-12);
        e.add(Double.NaN);
        assertEquals(2, e.count(), "NaN ignored");
        for (int i = 0; i < 40; i++) {
            e.add(10);
        }
        assertEquals(10, e.value(), 1e-3);
        Ewma all = Ewma.cumulative();
        for (int i = 1; i <= 100; i++) {
            all.add(i);
        }
        assertEquals(50.5, all.value(), 1e-9);
    }

    @Test
    void maeAndRmse() {
        ErrorMetrics m = new ErrorMetrics(Long.MAX_VALUE);
        m.add(new float[] {1, 2}, new float[] {2, 2});
        m.add(new float[] {0}, new float[] {3});
        assertEquals((0.5 + 3) / 2, m.mae(), 1e-9);
        assertEquals(Math.sqrt((0.5 + 9) / 2), m.rmse(), 1e-9);
        assertEquals(2, m.count());
    }

    @Test
    void hitRateNdcgAndMrrAtK() {
        RankingMetrics m = new RankingMetrics(3, Long.MAX_VALUE);
        m.add(List.of("a", "b", "c"), "a");
        m.add(List.of("a", "b", "c"), "c");
        m.add(List.of("a", "b", "c"), "z");
        m.addRank(4);
        assertEquals(0.5, m.hitRate(), 1e-12);
        assertEquals((1 + 1 / (Math.log(4) / Math.log(2))) / 4, m.ndcg(), 1e-12);
        assertEquals((1 + 1.0 / 3) / 4, m.mrr(), 1e-12);
        assertEquals(4, m.count());
    }
}
