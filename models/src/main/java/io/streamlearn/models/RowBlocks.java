package io.streamlearn.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Pads every inference batch to whole blocks of {@link #ROWS} rows, so that a row's answer does not
 * depend on the rows computed with it.
 *
 * <p>The CPU kernels (PyTorch's matrix products) give a row the same bits in every batch whose size
 * is a multiple of 16, at any position, but other bits (about one float ulp away) in a batch of
 * another size: the rows of a partial block take another code path. The predictors answer however
 * many queries arrive together (micro-batching), and a replay must give the same output in every
 * run; with whole blocks a row's answer depends on the row alone. The filler rows repeat the first
 * row and are dropped from the answer. A block costs about what one row costs (a matrix product of
 * 16 rows is bound by the weights it reads, as of one row), so little is lost at batch 1.
 * BatchInvarianceTest checks the property on the machine it runs on, for every family.
 */
final class RowBlocks {

    /** Rows per block. */
    static final int ROWS = 16;

    private RowBlocks() {}

    /** The batch size {@code rows} is run at. */
    static int padded(int rows) {
        return (rows + ROWS - 1) / ROWS * ROWS;
    }

    /** The rows followed by copies of the first up to {@link #padded}; empty stays empty. */
    static <T> T[] pad(T[] rows) {
        if (rows.length == 0 || rows.length % ROWS == 0) {
            return rows;
        }
        T[] out = Arrays.copyOf(rows, padded(rows.length));
        Arrays.fill(out, rows.length, out.length, rows[0]);
        return out;
    }

    /** Per-row exclusions padded with none; null stays null. */
    static <C> List<C> pad(List<C> exclude, int rows) {
        if (exclude == null) {
            return null;
        }
        List<C> out = new ArrayList<>(exclude);
        while (out.size() < padded(rows)) {
            out.add(null);
        }
        return out;
    }
}
