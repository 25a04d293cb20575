package io.streamlearn.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.internal.NDArrayEx;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.recurrent.RNN;
import io.streamlearn.models.ModelConfig.Family;
import io.streamlearn.models.ModelConfig.Task;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The network of a {@link ModelConfig} as pure functions of parameter arrays: nothing is stored
 * here but the config and where each tensor sits in the {@link ParameterLayout}. The learner passes
 * arrays it creates from its Java weights for one step; inference passes arrays it keeps.
 *
 * <p>Recurrent families call PyTorch's fused kernels through DJL ({@code NDArrayEx.rnn/gru/lstm},
 * batch-first, zero initial state unless one is given). Attention, MLP and the heads are written
 * with NDArray operations.
 *
 * <p>Native memory: DJL attaches an operation's result to the manager of its first operand. Every
 * operation here therefore takes a per-call array (the input or something computed from it) as its
 * first operand and parameters only as later operands, so results land in the caller's scope even
 * when the parameters live in a longer-lived manager. The leak tests hold this.
 */
final class Network {

    /** Log-variances are squashed into (-L, L) by L tanh(raw / L): sigma in [0.018, 55] z. */
    static final float LOG_VARIANCE_LIMIT = 8f;

    /** Added to scores that must not win a softmax (padding, row 0, accidental hits). */
    static final float MASKED = -1e9f;

    /** Layer-norm epsilon (PyTorch's default). */
    static final float LAYER_NORM_EPSILON = 1e-5f;

    private final ModelConfig config;
    private final ParameterLayout layout;
    private final int[] encoder;
    private final int[] decoder;
    private final float[] causalMask;
    private final int[] itemTables;
    private final int outputTable;
    private final int outputBias;

    Network(ModelConfig config) {
        this.config = config;
        this.layout = ParameterLayout.of(config);
        this.itemTables = layout.itemTables();
        int output = layout.find(ParameterLayout.ITEM_OUTPUT);
        this.outputTable = output >= 0 ? output : layout.find(ParameterLayout.ITEM_EMBEDDING);
        this.outputBias = layout.find(ParameterLayout.ITEM_BIAS);
        Family family = config.family();
        if (family.isRecurrent()) {
            encoder = recurrentIndexes("");
            decoder = null;
        } else if (family == Family.LSTM_AUTOENCODER) {
            encoder = recurrentIndexes("enc_");
            decoder = recurrentIndexes("dec_");
        } else {
            encoder = null;
            decoder = null;
        }
        int w = config.window();
        causalMask = new float[w * w];
        for (int i = 0; i < w; i++) {
            for (int j = i + 1; j < w; j++) {
                causalMask[i * w + j] = MASKED;
            }
        }
    }

    private int[] recurrentIndexes(String prefix) {
        int[] idx = new int[4 * config.layers()];
        String[] names = {"w_ih", "w_hh", "b_ih", "b_hh"};
        for (int l = 0; l < config.layers(); l++) {
            for (int k = 0; k < 4; k++) {
                idx[4 * l + k] = layout.indexOf(prefix + "l" + l + "_" + names[k]);
            }
        }
        return idx;
    }

    ModelConfig config() {
        return config;
    }

    ParameterLayout layout() {
        return layout;
    }

    /**
     * Creates parameter arrays from Java weights.
     *
     * @param manager the manager that owns the arrays (its device is the arrays' device)
     * @param weights one array per tensor, in layout order
     * @return the arrays, in layout order; null for the tensors learned outside the optimizer (the
     *     successor slots), which the network does not read
     */
    NDArray[] createParameters(NDManager manager, float[][] weights) {
        return createParameters(manager, weights, Integer.MAX_VALUE);
    }

    /**
     * Creates parameter arrays from Java weights, the item tables cut to their leading rows.
     *
     * @param manager the manager that owns the arrays (its device is the arrays' device)
     * @param weights one array per tensor, in layout order
     * @param itemRows the rows of each item table to create (copies of the leading rows: a matrix
     *     product over a slice of a larger table ran five times slower than over the same rows on
     *     their own, PyTorch 2.7 on the CPU); rows from here on must never be looked up or scored
     * @return the arrays, in layout order; null for the tensors learned outside the optimizer (the
     *     successor slots), which the network does not read
     */
    NDArray[] createParameters(NDManager manager, float[][] weights, int itemRows) {
        NDArray[] arrays = new NDArray[layout.size()];
        for (int i = 0; i < arrays.length; i++) {
            ParameterLayout.Tensor t = layout.get(i);
            if (t.outsideOptimizer()) {
                continue;
            }
            long[] shape = t.shape();
            if (Arrays.binarySearch(itemTables, i) >= 0 && itemRows < shape[0]) {
                shape[0] = itemRows;
                FloatBuffer leading = FloatBuffer.wrap(weights[i], 0, itemRows * t.rowLength());
                arrays[i] = manager.create(leading, new Shape(shape));
            } else {
                arrays[i] = manager.create(weights[i], new Shape(shape));
            }
        }
        return arrays;
    }

    /** Index of the item embedding table in the layout, or -1. */
    int itemTable() {
        return layout.find(ParameterLayout.ITEM_EMBEDDING);
    }

    /**
     * Indexes of the tensors whose rows are vocabulary rows, in layout order: the embedding table
     * and, for an untied head, the output table and the bias (and the successor slots, which stay
     * in Java). A training step gathers the rows it touches of each and updates only those.
     */
    int[] itemTables() {
        return itemTables.clone();
    }

    /**
     * Looks up item embeddings.
     *
     * @param p the parameters (the table may be a gathered part of the full one)
     * @param rows int64 rows of the table, any shape
     * @return the embeddings, shape of rows + (hiddenSize)
     */
    NDArray embed(NDArray[] p, NDArray rows) {
        return Embedding.embedding(rows, p[itemTable()], SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * Summarises each window into one vector.
     *
     * @param p the parameters
     * @param x the inputs, (B, window, D): values (D = features) or item embeddings (D = hidden)
     * @param padding (B, window), 1 where a step is padding, for attention; or null
     * @param training whether dropout applies
     * @return (B, hiddenSize)
     */
    NDArray encode(NDArray[] p, NDArray x, NDArray padding, boolean training) {
        switch (config.family()) {
            case RNN:
            case GRU:
            case LSTM:
                return lastStep(recurrent(p, encoder, x, null, training).get(0));
            case ATTENTION:
                return attention(p, x, padding, training);
            case MLP:
                return mlp(p, x, training);
            default:
                throw new IllegalStateException(config.family() + " has no summary");
        }
    }

    /**
     * Runs the stack of recurrent layers of a recurrent family from a given state.
     *
     * @param p the parameters
     * @param x the inputs, (B, T, D)
     * @param state the state to start from ([h] or, for LSTM, [h, c], each (layers, B, H)), or null
     *     for zeros
     * @return [output (B, T, H), h (layers, B, H)] and, for LSTM, c (layers, B, H)
     */
    NDList recurrent(NDArray[] p, NDArray x, NDList state) {
        return recurrent(p, encoder, x, state, false);
    }

    private NDList recurrent(NDArray[] p, int[] idx, NDArray x, NDList state, boolean training) {
        NDList params = new NDList(idx.length);
        for (int i : idx) {
            params.add(p[i]);
        }
        long batch = x.getShape().get(0);
        Shape stateShape = new Shape(config.layers(), batch, config.hiddenSize());
        NDArrayEx ex = x.getNDArrayInternal();
        int layers = config.layers();
        double drop = config.dropout();
        boolean lstm = config.family() == Family.LSTM || config.family() == Family.LSTM_AUTOENCODER;
        if (lstm) {
            NDList hx =
                    state != null
                            ? state
                            : new NDList(
                                    x.getManager().zeros(stateShape),
                                    x.getManager().zeros(stateShape));
            return ex.lstm(x, hx, params, true, layers, drop, training, false, true);
        }
        NDArray h0 = state != null ? state.get(0) : x.getManager().zeros(stateShape);
        if (config.family() == Family.GRU) {
            return ex.gru(x, h0, params, true, layers, drop, training, false, true);
        }
        return ex.rnn(
                x, h0, params, true, layers, RNN.Activation.TANH, drop, training, false, true);
    }

    /** (B, T, H) to the last step's (B, H). */
    static NDArray lastStep(NDArray sequence) {
        return sequence.get(new NDIndex(":, -1, :"));
    }

    /**
     * Pre-layer-norm causal self-attention (Vaswani et al. 2017; as in SASRec, Kang and McAuley
     * 2018): learned positions, per layer x += Attn(LN(x)) and x += FFN(LN(x)), a final layer norm,
     * and the last position as the summary.
     */
    private NDArray attention(NDArray[] p, NDArray input, NDArray padding, boolean training) {
        Shape shape = input.getShape();
        long b = shape.get(0);
        long w = shape.get(1);
        long h = config.hiddenSize();
        int heads = config.heads();
        long dh = h / heads;
        NDArray x = config.task() == Task.NEXT_ITEM ? input : linear(input, p, "in");
        x = x.add(p[layout.indexOf("positions")]);
        NDManager scope = input.getManager();
        NDArray mask = scope.create(causalMask, new Shape(w, w));
        if (padding != null) {
            mask = times(padding, MASKED).reshape(b, 1, 1, w).add(mask);
        }
        float scale = (float) (1.0 / Math.sqrt(dh));
        Shape hShape = new Shape(h);
        for (int l = 0; l < config.layers(); l++) {
            String pre = "l" + l + "_";
            NDArray a = layerNorm(x, p, pre + "ln1", hShape);
            NDArray qkv =
                    linear(a, p, pre + "qkv").reshape(b, w, 3, heads, dh).transpose(2, 0, 3, 1, 4);
            NDArray q = qkv.get(0);
            NDArray k = qkv.get(1);
            NDArray v = qkv.get(2);
            NDArray scores = times(q.matMul(k.transpose(0, 1, 3, 2)), scale).add(mask);
            NDArray weights = dropout(scores.softmax(-1), training);
            NDArray context = weights.matMul(v).transpose(0, 2, 1, 3).reshape(b, w, h);
            x = x.add(dropout(linear(context, p, pre + "attn_out"), training));
            NDArray f = layerNorm(x, p, pre + "ln2", hShape);
            f = Activation.relu(linear(f, p, pre + "ffn1"));
            x = x.add(dropout(linear(f, p, pre + "ffn2"), training));
        }
        return lastStep(layerNorm(x, p, "final_ln", hShape));
    }

    /** ReLU layers over the flattened window, dropout between them. */
    private NDArray mlp(NDArray[] p, NDArray x, boolean training) {
        Shape shape = x.getShape();
        NDArray y = x.reshape(shape.get(0), shape.get(1) * shape.get(2));
        for (int l = 0; l < config.layers(); l++) {
            if (l > 0) {
                y = dropout(y, training);
            }
            y = Activation.relu(linear(y, p, "mlp" + l));
        }
        return y;
    }

    /**
     * The Gaussian head of NEXT_VALUE: the mean is the last normalised value plus a learned delta,
     * and the log-variance is squashed into (-{@value #LOG_VARIANCE_LIMIT}, {@value
     * #LOG_VARIANCE_LIMIT}). Both layers start at zero: the naive last-value forecast with unit
     * variance.
     *
     * <p>The log-variance layer reads the summary with its gradient stopped: the network below is
     * shaped by the mean alone, and the variance is a linear read-out of what the mean needed.
     * Trained jointly, the variance's gradients (large once the predicted spread is small) drowned
     * the mean's in the shared layers: on the demo's stream the LSTM's online MAE was 1.11 times
     * the naive forecast's with them and 0.68 times without (docs/models/README.md).
     *
     * @param p the parameters
     * @param summary (B, H)
     * @param last the last normalised values of each window, (B, features)
     * @return [mean (B, features), log-variance (B, features)]
     */
    NDList gaussian(NDArray[] p, NDArray summary, NDArray last) {
        NDArray mean = last.add(linear(summary, p, "head_mean"));
        NDArray raw = linear(summary.stopGradient(), p, "head_logvar");
        NDArray logVariance = times(times(raw, 1f / LOG_VARIANCE_LIMIT).tanh(), LOG_VARIANCE_LIMIT);
        return new NDList(mean, logVariance);
    }

    /**
     * The query of NEXT_ITEM: scores are its dot products with the rows of the output table (the
     * input embeddings when the head is TIED, as in SASRec), plus the item's bias when UNTIED.
     *
     * <p>UNTIED also adds the last item's input embedding to the query, so that a score holds a
     * direct term e(last) . out(next): a factorised transition matrix (as FPMC, Rendle et al.
     * 2010), which learns a first-order transition from its sightings without waiting for the
     * encoder to carry the last item through.
     *
     * @param p the parameters
     * @param summary (B, hiddenSize)
     * @param last the last item's embedding, (B, hiddenSize)
     * @return (B, hiddenSize)
     */
    NDArray itemQuery(NDArray[] p, NDArray summary, NDArray last) {
        NDArray query = linear(summary, p, "item_out");
        return outputBias < 0 ? query : query.add(last);
    }

    /**
     * Scores every row of the (possibly gathered) output table: query . out[row] + bias[row].
     *
     * @param p the parameters
     * @param query (B, hiddenSize)
     * @return (B, rows of the table)
     */
    NDArray itemScores(NDArray[] p, NDArray query) {
        return outputBias < 0
                ? Linear.linear(query, p[outputTable]).singletonOrThrow()
                : Linear.linear(query, p[outputTable], p[outputBias]).singletonOrThrow();
    }

    /**
     * Scores chosen rows for every query, for the sampled softmax: query . out[row] + bias[row].
     * Training only: the parameters must live in the step's scope (the bias is reshaped).
     *
     * @param p the parameters of a training step
     * @param query (B, hiddenSize)
     * @param rows int64 rows of the (gathered) output table, (N)
     * @return (B, N)
     */
    NDArray itemScores(NDArray[] p, NDArray query, NDArray rows) {
        NDArray out =
                Embedding.embedding(rows, p[outputTable], SparseFormat.DENSE).singletonOrThrow();
        NDArray scores = Linear.linear(query, out).singletonOrThrow();
        return outputBias < 0 ? scores : scores.add(bias(p, rows).reshape(1, -1));
    }

    /**
     * Scores each query's own row, for the sampled softmax's positive: query_b . out[row_b] +
     * bias[row_b]. Training only, as {@link #itemScores(NDArray[], NDArray, NDArray)}.
     *
     * @param p the parameters of a training step
     * @param query (B, hiddenSize)
     * @param rows int64 rows of the (gathered) output table, (B)
     * @return (B, 1)
     */
    NDArray itemScore(NDArray[] p, NDArray query, NDArray rows) {
        NDArray out =
                Embedding.embedding(rows, p[outputTable], SparseFormat.DENSE).singletonOrThrow();
        NDArray scores = query.mul(out).sum(new int[] {1}, true);
        return outputBias < 0 ? scores : scores.add(bias(p, rows).reshape(-1, 1));
    }

    private NDArray bias(NDArray[] p, NDArray rows) {
        NDArray table = p[outputBias].reshape(-1, 1);
        return Embedding.embedding(rows, table, SparseFormat.DENSE).singletonOrThrow().reshape(-1);
    }

    /**
     * The LSTM autoencoder: the encoder's last hidden state, repeated at every step, drives the
     * decoder, whose outputs a linear layer maps back to the features.
     *
     * @param p the parameters
     * @param x normalised windows, (B, window, features)
     * @param training whether dropout applies
     * @return the reconstruction, (B, window, features)
     */
    NDArray reconstruct(NDArray[] p, NDArray x, boolean training) {
        Shape shape = x.getShape();
        NDList encoded = recurrent(p, encoder, x, null, training);
        NDArray code = encoded.get(1).get(config.layers() - 1);
        NDArray repeated = code.expandDims(1).repeat(1, shape.get(1));
        NDArray decoded = recurrent(p, decoder, repeated, null, training).get(0);
        return linear(decoded, p, "recon");
    }

    /**
     * {@code x} times a constant, the constant an array of x's manager that lives as long as it.
     * Not DJL 0.35.1's {@code mul(Number)} (nor {@code div}, {@code add}, {@code sub} of a {@code
     * Number}): it makes the constant's tensor on a direct buffer and closes the array at once, but
     * autograd keeps the tensor for the backward pass, which then reads the buffer after the
     * garbage collector may have freed it. That changed the gradients in about one training process
     * in 70 (every one with {@code -XX:+UseParallelGC -Xmn1m}); {@code ProcessDeterminismTest}
     * checks that it does not any more.
     */
    static NDArray times(NDArray x, float constant) {
        return x.mul(x.getManager().create(constant));
    }

    /** {@code x} plus a constant, as {@link #times}. */
    static NDArray plus(NDArray x, float constant) {
        return x.add(x.getManager().create(constant));
    }

    private NDArray linear(NDArray x, NDArray[] p, String name) {
        return Linear.linear(
                        x, p[layout.indexOf(name + "_weight")], p[layout.indexOf(name + "_bias")])
                .singletonOrThrow();
    }

    private NDArray layerNorm(NDArray x, NDArray[] p, String name, Shape shape) {
        return LayerNorm.layerNorm(
                        x,
                        shape,
                        p[layout.indexOf(name + "_gain")],
                        p[layout.indexOf(name + "_bias")],
                        LAYER_NORM_EPSILON)
                .singletonOrThrow();
    }

    private NDArray dropout(NDArray x, boolean training) {
        if (!training || config.dropout() == 0f) {
            return x;
        }
        return Dropout.dropout(x, config.dropout(), true).singletonOrThrow();
    }
}
