package io.streamlearn.models;

/**
 * The scale-free input and target encoding shared by {@link OnlineLearner} and {@link
 * LstmForecaster}.
 *
 * <p>For each row and feature, with window values x_1..x_W, last value x_W and
 *
 * <pre>
 * s = max(std(x_1..x_W), 1e-3 * mean(|x_1..x_W|))     (s = 1 when that is 0: an all-zero window)
 * </pre>
 *
 * the network reads u_t = (x_t - x_W) / s and predicts the normalised delta d = (y - x_W) / s of
 * the next value y; a prediction is de-normalised as y = x_W + s * d. A model that outputs 0 is
 * therefore the naive last-value forecast, and series of any level or amplitude look alike to the
 * network. The relative floor keeps a flat window from dividing by zero. Training targets are
 * clipped to +-{@value #TARGET_CLIP}: larger deltas are level shifts the window cannot foretell,
 * and clipping keeps one of them from dominating a batch's loss. Non-finite values pass through as
 * non-finite so that the learner's guard sees them.
 */
final class WindowEncoding {

    /** Floor of the scale, relative to the window's mean absolute value. */
    static final double RELATIVE_SCALE_FLOOR = 1e-3;

    /** Largest magnitude of a normalised training target. */
    static final double TARGET_CLIP = 100.0;

    private final int rows;
    private final int window;
    private final int features;
    private final float[] inputs;
    private final double[] last;
    private final double[] scale;

    private WindowEncoding(int rows, int window, int features) {
        this.rows = rows;
        this.window = window;
        this.features = features;
        this.inputs = new float[Math.multiplyExact(rows, window * features)];
        this.last = new double[rows * features];
        this.scale = new double[rows * features];
    }

    /**
     * Normalises windows, checking their lengths.
     *
     * @param config the model's config
     * @param windows one row per series: {@code window * features} values, oldest first
     * @return the encoding
     * @throws IllegalArgumentException naming the first row of the wrong length
     */
    static WindowEncoding encode(ForecasterConfig config, float[][] windows) {
        int w = config.window();
        int f = config.features();
        if (windows == null) {
            throw new IllegalArgumentException("windows must not be null");
        }
        int rowLength = w * f;
        for (int r = 0; r < windows.length; r++) {
            if (windows[r] == null || windows[r].length != rowLength) {
                throw new IllegalArgumentException(
                        "windows["
                                + r
                                + "] must hold window * features = "
                                + w
                                + " * "
                                + f
                                + " = "
                                + rowLength
                                + " values but held "
                                + (windows[r] == null ? "null" : windows[r].length));
            }
        }
        WindowEncoding enc = new WindowEncoding(windows.length, w, f);
        for (int r = 0; r < windows.length; r++) {
            float[] row = windows[r];
            for (int j = 0; j < f; j++) {
                double sum = 0;
                double sumAbs = 0;
                for (int t = 0; t < w; t++) {
                    double x = row[t * f + j];
                    sum += x;
                    sumAbs += Math.abs(x);
                }
                double mean = sum / w;
                double squares = 0;
                for (int t = 0; t < w; t++) {
                    double d = row[t * f + j] - mean;
                    squares += d * d;
                }
                double s = Math.max(Math.sqrt(squares / w), RELATIVE_SCALE_FLOOR * sumAbs / w);
                if (s == 0) {
                    s = 1;
                }
                double lastValue = row[(w - 1) * f + j];
                enc.last[r * f + j] = lastValue;
                enc.scale[r * f + j] = s;
                int base = r * w * f;
                for (int t = 0; t < w; t++) {
                    enc.inputs[base + t * f + j] = (float) ((row[t * f + j] - lastValue) / s);
                }
            }
        }
        return enc;
    }

    /**
     * Normalises the observed next values of the encoded rows.
     *
     * @param targets one row per window: {@code features} values
     * @return row-major normalised deltas, {@code rows * features}
     * @throws IllegalArgumentException naming the first row of the wrong length
     */
    float[] encodeTargets(float[][] targets) {
        if (targets == null) {
            throw new IllegalArgumentException("targets must not be null");
        }
        if (targets.length != rows) {
            throw new IllegalArgumentException(
                    "targets must hold one row per window ("
                            + rows
                            + ") but held "
                            + targets.length);
        }
        float[] out = new float[rows * features];
        for (int r = 0; r < rows; r++) {
            if (targets[r] == null || targets[r].length != features) {
                throw new IllegalArgumentException(
                        "targets["
                                + r
                                + "] must hold features = "
                                + features
                                + " values but held "
                                + (targets[r] == null ? "null" : targets[r].length));
            }
            for (int j = 0; j < features; j++) {
                int i = r * features + j;
                double d = (targets[r][j] - last[i]) / scale[i];
                if (Double.isFinite(d)) {
                    d = Math.max(-TARGET_CLIP, Math.min(TARGET_CLIP, d));
                }
                out[i] = (float) d;
            }
        }
        return out;
    }

    /**
     * De-normalises network outputs.
     *
     * @param outputs row-major normalised deltas, {@code rows * features}
     * @return one row of {@code features} predicted values per window
     */
    float[][] decode(float[] outputs) {
        float[][] out = new float[rows][features];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < features; j++) {
                int i = r * features + j;
                out[r][j] = (float) (last[i] + scale[i] * outputs[i]);
            }
        }
        return out;
    }

    int rows() {
        return rows;
    }

    int window() {
        return window;
    }

    int features() {
        return features;
    }

    /** Row-major network input of shape (rows, window, features); not copied. */
    float[] inputs() {
        return inputs;
    }
}
