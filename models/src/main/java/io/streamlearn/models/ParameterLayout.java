package io.streamlearn.models;

import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * The parameter tensors of the network a {@link ModelConfig} describes, in the fixed order used by
 * {@link ModelState}, with how each is initialised and whether weight decay applies to it.
 *
 * <p>Order: the input stage (item embedding table, input projection, learned positions), the
 * encoder (per recurrent layer {@code w_ih, w_hh, b_ih, b_hh} in PyTorch's gate order; per
 * attention layer two layer norms, the fused query/key/value projection, the output projection and
 * the feed-forward pair; per MLP layer a weight and a bias; the autoencoder's encoder then
 * decoder), then the head (for an untied NEXT_ITEM head: the query projection, the output table and
 * the per-item bias, and with successor slots their candidate rows and weights). The item tables
 * are the tensors whose rows are vocabulary rows. Tensors {@linkplain Tensor#outsideOptimizer()
 * learned outside the optimizer} (the successor slots) have no optimizer arrays: theirs are empty.
 * Pure Java, so that the codec can check a state's array lengths without loading the engine; {@code
 * docs/models/} lists the tensors of each family.
 */
final class ParameterLayout {

    /** How a tensor's first values are drawn. */
    enum Init {
        /** All zero: biases, and heads that must start at the naive forecast. */
        ZERO,
        /** All one: layer-norm gains. */
        ONE,
        /** Uniform in [-scale, scale] (PyTorch's default range for RNN and Linear weights). */
        UNIFORM,
        /** Normal with standard deviation scale (embeddings, positions). */
        NORMAL
    }

    /**
     * One tensor: its name, shape, initialisation, whether it takes weight decay, the factor on the
     * learning rate it is updated with, and whether the optimizer updates it at all.
     */
    static final class Tensor {
        private final String name;
        private final long[] shape;
        private final int size;
        private final Init init;
        private final double scale;
        private final boolean decay;
        private final double learningRateScale;
        private final boolean outsideOptimizer;

        Tensor(String name, Init init, double scale, boolean decay, long... shape) {
            this(name, init, scale, decay, 1.0, false, shape);
        }

        Tensor(
                String name,
                Init init,
                double scale,
                boolean decay,
                double learningRateScale,
                boolean outsideOptimizer,
                long... shape) {
            this.name = name;
            this.shape = shape.clone();
            this.init = init;
            this.scale = scale;
            this.decay = decay;
            this.learningRateScale = learningRateScale;
            this.outsideOptimizer = outsideOptimizer;
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            this.size = Math.toIntExact(n);
        }

        String name() {
            return name;
        }

        long[] shape() {
            return shape.clone();
        }

        int size() {
            return size;
        }

        /**
         * Values per row: the size over the first dimension (a matrix's last dimension; 1 for a
         * vector, whose rows are its elements, as the per-item bias).
         */
        int rowLength() {
            return size / (int) shape[0];
        }

        Init init() {
            return init;
        }

        boolean decay() {
            return decay;
        }

        /** The factor on the config's learning rate this tensor is updated with. */
        double learningRateScale() {
            return learningRateScale;
        }

        /** This tensor with another learning-rate factor. */
        Tensor withLearningRateScale(double factor) {
            return new Tensor(name, init, scale, decay, factor, outsideOptimizer, shape);
        }

        /**
         * Whether the tensor is learned outside the optimizer (by its own rule in Java, as the
         * successor slots): it is not staged to the engine, has no gradient, takes no part in the
         * gradient's norm, weight decay or the optimizer's update, and has no optimizer arrays.
         */
        boolean outsideOptimizer() {
            return outsideOptimizer;
        }

        /** The length of each of its optimizer arrays: its size, or 0 outside the optimizer. */
        int slotSize() {
            return outsideOptimizer ? 0 : size;
        }

        /** Draws a fresh value for one element. */
        float draw(Random random) {
            switch (init) {
                case ONE:
                    return 1f;
                case UNIFORM:
                    return (float) ((random.nextDouble() * 2 - 1) * scale);
                case NORMAL:
                    return (float) (random.nextGaussian() * scale);
                default:
                    return 0f;
            }
        }
    }

    /** Name of the item embedding table: rows are vocabulary rows (NEXT_ITEM only). */
    static final String ITEM_EMBEDDING = "item_embedding";

    /** Name of the untied output table: one row per vocabulary row (NEXT_ITEM, UNTIED). */
    static final String ITEM_OUTPUT = "item_output";

    /** Name of the per-item output bias (NEXT_ITEM, UNTIED). */
    static final String ITEM_BIAS = "item_bias";

    /**
     * Name of the successor slots' candidates (NEXT_ITEM, UNTIED, {@code successorSlots() > 0}):
     * per row of the last item, S vocabulary rows as floats (exact, as rows are below 2^24), 0 for
     * an empty slot. Learned outside the optimizer ({@link SuccessorSlots}).
     */
    static final String ITEM_SUCCESSOR_ROWS = "item_successor_rows";

    /**
     * Name of the successor slots' weights, one per candidate (see {@link #ITEM_SUCCESSOR_ROWS}).
     */
    static final String ITEM_SUCCESSOR_WEIGHTS = "item_successor_weights";

    /**
     * Standard deviation of the item embeddings of an UNTIED head (a TIED one keeps 1 / sqrt(H)).
     * The output table and the bias start at zero, so a new item scores by its bias alone and its
     * output row is learnt as a read-out of the embeddings; with Adam's steps of about the learning
     * rate per value, a score e(last) . out(next) moves in proportion to |e|, and embeddings of
     * unit scale learnt the demo's transitions faster than 1 / sqrt(H) did (docs/models/README.md
     * has the figures).
     */
    static final double UNTIED_EMBEDDING_SCALE = 1.0;

    /**
     * Learning-rate factors of an UNTIED head's model: the item embedding table learns at {@value
     * #UNTIED_EMBEDDING_LEARNING_RATE} times the configured rate, the output table and bias at the
     * configured rate, and the dense layers shared by every item (the encoder and the query
     * projection) at {@value #UNTIED_DENSE_LEARNING_RATE} times it. A row of an item table is
     * updated only when its item is in a batch (the embedding row) or moves a little for every
     * example (the output row), while the shared layers take a step on every batch from every
     * example: at one rate, the shared layers' steps kept moving the scores of item pairs learnt
     * from few sightings, and the embedding rows learnt them slowly. On the generated clickstream
     * (docs/feeds/recommendations.md, three generator seeds) these factors raised the prequential
     * HR@10 from 0.58 to 0.62, before and after its drift.
     */
    static final double UNTIED_EMBEDDING_LEARNING_RATE = 3.0;

    /** See {@link #UNTIED_EMBEDDING_LEARNING_RATE}. */
    static final double UNTIED_DENSE_LEARNING_RATE = 0.3;

    private final List<Tensor> tensors;
    private final Map<String, Integer> index;

    private ParameterLayout(List<Tensor> tensors) {
        this.tensors = Collections.unmodifiableList(tensors);
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            byName.put(tensors.get(i).name(), i);
        }
        this.index = byName;
    }

    /**
     * Lists the tensors of the network a config describes.
     *
     * @param config the config
     * @return the layout
     */
    static ParameterLayout of(ModelConfig config) {
        List<Tensor> t = new ArrayList<>();
        long h = config.hiddenSize();
        long f = config.features();
        long w = config.window();
        boolean items = config.task() == Task.NEXT_ITEM;
        boolean untied = items && config.itemOutput() == ModelConfig.ItemOutput.UNTIED;
        long inputWidth = items ? h : f;
        if (items) {
            t.add(
                    new Tensor(
                            ITEM_EMBEDDING,
                            Init.NORMAL,
                            untied ? UNTIED_EMBEDDING_SCALE : 1.0 / Math.sqrt(h),
                            true,
                            config.itemCapacity(),
                            h));
        }
        Family family = config.family();
        switch (family) {
            case RNN:
            case GRU:
            case LSTM:
                recurrent(t, "", gates(family), config.layers(), inputWidth, h);
                break;
            case LSTM_AUTOENCODER:
                recurrent(t, "enc_", 4, config.layers(), inputWidth, h);
                recurrent(t, "dec_", 4, config.layers(), h, h);
                linear(t, "recon", f, h, Init.UNIFORM);
                break;
            case ATTENTION:
                if (!items) {
                    linear(t, "in", h, f, Init.UNIFORM);
                }
                t.add(new Tensor("positions", Init.NORMAL, 0.02, false, w, h));
                for (int l = 0; l < config.layers(); l++) {
                    String p = "l" + l + "_";
                    layerNorm(t, p + "ln1", h);
                    linear(t, p + "qkv", 3 * h, h, Init.UNIFORM);
                    linear(t, p + "attn_out", h, h, Init.UNIFORM);
                    layerNorm(t, p + "ln2", h);
                    linear(t, p + "ffn1", h, h, Init.UNIFORM);
                    linear(t, p + "ffn2", h, h, Init.UNIFORM);
                }
                layerNorm(t, "final_ln", h);
                break;
            case MLP:
                for (int l = 0; l < config.layers(); l++) {
                    linear(t, "mlp" + l, h, l == 0 ? w * inputWidth : h, Init.UNIFORM);
                }
                break;
            default:
                throw new IllegalStateException("no layout for " + family);
        }
        if (config.task() == Task.NEXT_VALUE) {
            linear(t, "head_mean", f, h, Init.ZERO);
            linear(t, "head_logvar", f, h, Init.ZERO);
        } else if (items) {
            linear(t, "item_out", h, h, Init.UNIFORM);
            if (untied) {
                t.add(new Tensor(ITEM_OUTPUT, Init.ZERO, 0, true, config.itemCapacity(), h));
                t.add(new Tensor(ITEM_BIAS, Init.ZERO, 0, false, config.itemCapacity()));
                for (int i = 0; i < t.size(); i++) {
                    String n = t.get(i).name();
                    double factor =
                            n.equals(ITEM_EMBEDDING)
                                    ? UNTIED_EMBEDDING_LEARNING_RATE
                                    : n.equals(ITEM_OUTPUT) || n.equals(ITEM_BIAS)
                                            ? 1.0
                                            : UNTIED_DENSE_LEARNING_RATE;
                    t.set(i, t.get(i).withLearningRateScale(factor));
                }
                int successors = config.successorSlots();
                if (successors > 0) {
                    // Rows are stored as floats: exact up to 2^24, the largest capacity
                    // ModelConfig accepts (MAX_ITEM_CAPACITY).
                    for (String name : List.of(ITEM_SUCCESSOR_ROWS, ITEM_SUCCESSOR_WEIGHTS)) {
                        t.add(
                                new Tensor(
                                        name,
                                        Init.ZERO,
                                        0,
                                        false,
                                        1.0,
                                        true,
                                        config.itemCapacity(),
                                        successors));
                    }
                }
            }
        }
        return new ParameterLayout(t);
    }

    /** Gates per recurrent cell: PyTorch stacks them in the first dimension of each weight. */
    static int gates(Family family) {
        switch (family) {
            case GRU:
                return 3;
            case LSTM:
            case LSTM_AUTOENCODER:
                return 4;
            default:
                return 1;
        }
    }

    private static void recurrent(
            List<Tensor> t, String prefix, int gates, int layers, long input, long hidden) {
        double bound = 1.0 / Math.sqrt(hidden);
        long rows = gates * hidden;
        for (int l = 0; l < layers; l++) {
            String p = prefix + "l" + l + "_";
            long in = l == 0 ? input : hidden;
            t.add(new Tensor(p + "w_ih", Init.UNIFORM, bound, true, rows, in));
            t.add(new Tensor(p + "w_hh", Init.UNIFORM, bound, true, rows, hidden));
            t.add(new Tensor(p + "b_ih", Init.UNIFORM, bound, false, rows));
            t.add(new Tensor(p + "b_hh", Init.UNIFORM, bound, false, rows));
        }
    }

    /** A PyTorch-style linear layer: weight (out x in) uniform in +-1/sqrt(in), or zeros. */
    private static void linear(List<Tensor> t, String name, long out, long in, Init init) {
        double bound = 1.0 / Math.sqrt(in);
        t.add(new Tensor(name + "_weight", init, bound, true, out, in));
        t.add(new Tensor(name + "_bias", init == Init.ZERO ? Init.ZERO : init, bound, false, out));
    }

    private static void layerNorm(List<Tensor> t, String name, long width) {
        t.add(new Tensor(name + "_gain", Init.ONE, 0, false, width));
        t.add(new Tensor(name + "_bias", Init.ZERO, 0, false, width));
    }

    List<Tensor> tensors() {
        return tensors;
    }

    int size() {
        return tensors.size();
    }

    Tensor get(int i) {
        return tensors.get(i);
    }

    /**
     * Returns a tensor's position.
     *
     * @throws IllegalStateException if the layout has no such tensor
     */
    int indexOf(String name) {
        Integer i = index.get(name);
        if (i == null) {
            throw new IllegalStateException("no tensor " + name + " in this layout");
        }
        return i;
    }

    /**
     * Returns the positions of the tensors whose rows are vocabulary rows (embedding table, and for
     * an untied head the output table and bias, and the successor slots), in layout order; empty if
     * none.
     */
    int[] itemTables() {
        return IntStream.range(0, tensors.size())
                .filter(
                        i -> {
                            String n = tensors.get(i).name();
                            return n.equals(ITEM_EMBEDDING)
                                    || n.equals(ITEM_OUTPUT)
                                    || n.equals(ITEM_BIAS)
                                    || n.equals(ITEM_SUCCESSOR_ROWS)
                                    || n.equals(ITEM_SUCCESSOR_WEIGHTS);
                        })
                .toArray();
    }

    /** Returns a tensor's position, or -1. */
    int find(String name) {
        Integer i = index.get(name);
        return i == null ? -1 : i;
    }

    /**
     * Checks that arrays have the count and lengths of this layout.
     *
     * @param what what the arrays are, for the message
     * @param arrays the arrays
     * @throws IllegalArgumentException naming the first mismatch
     */
    void check(String what, float[][] arrays) {
        check(what, arrays, false);
    }

    /**
     * Checks that optimizer arrays have the count and lengths of this layout: empty for the tensors
     * learned outside the optimizer.
     *
     * @param what what the arrays are, for the message
     * @param arrays the arrays
     * @throws IllegalArgumentException naming the first mismatch
     */
    void checkSlot(String what, float[][] arrays) {
        check(what, arrays, true);
    }

    private void check(String what, float[][] arrays, boolean slot) {
        if (arrays == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (arrays.length != tensors.size()) {
            throw new IllegalArgumentException(
                    what + " must hold " + tensors.size() + " arrays but held " + arrays.length);
        }
        for (int i = 0; i < arrays.length; i++) {
            Tensor t = tensors.get(i);
            int size = slot ? t.slotSize() : t.size();
            if (arrays[i] == null || arrays[i].length != size) {
                throw new IllegalArgumentException(
                        what
                                + "["
                                + i
                                + "] ("
                                + t.name()
                                + ") must hold "
                                + size
                                + " values but held "
                                + (arrays[i] == null ? "null" : arrays[i].length));
            }
        }
    }

    /** Returns zero-filled arrays shaped like the tensors. */
    float[][] zeros() {
        float[][] arrays = new float[tensors.size()][];
        for (int i = 0; i < arrays.length; i++) {
            arrays[i] = new float[tensors.get(i).size()];
        }
        return arrays;
    }

    /**
     * Returns zero-filled optimizer arrays: shaped like the tensors, empty outside the optimizer.
     */
    float[][] slotZeros() {
        float[][] arrays = new float[tensors.size()][];
        for (int i = 0; i < arrays.length; i++) {
            arrays[i] = new float[tensors.get(i).slotSize()];
        }
        return arrays;
    }

    /** Returns fresh weights drawn in layout order from {@code Random(seed)}. */
    float[][] initialWeights(long seed) {
        float[][] w = zeros();
        Random random = new Random(seed);
        for (int i = 0; i < w.length; i++) {
            Tensor t = tensors.get(i);
            for (int j = 0; j < w[i].length; j++) {
                w[i][j] = t.draw(random);
            }
        }
        return w;
    }

    /** Returns the number of values over all tensors. */
    long parameterCount() {
        long n = 0;
        for (Tensor t : tensors) {
            n += t.size();
        }
        return n;
    }
}
