package io.streamlearn.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamlearn.models.ModelConfig.Task;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * A batch turned into the flat host arrays one training or evaluation step feeds the engine.
 *
 * <p>For NEXT_ITEM it also resolves item ids to rows (planning the admission of new ids when
 * training), draws the sampled negatives from the vocabulary's popularity proposal, and gathers the
 * rows the step touches of every item table (embeddings, and for an untied head the output table
 * and bias) into compact local tables in the learner's staging buffers, so that a step copies and
 * updates only those rows. With the full softmax every row in use is touched. With successor slots
 * ({@link SuccessorSlots}) it works out each example's last row and the term the slots add to its
 * logits, keeps the step's softmax for their update, and applies it once the step is committed.
 */
final class Examples {

    private final ModelConfig config;
    private final Network network;
    private int rows;

    private float[] inputs;
    private float[] last;
    private float[] targets;

    private long[] itemRows;
    private float[] padding;
    private long[] targetRows;
    private int[] tableRows;
    private long[] negatives;
    private float[] negativeCorrection;
    private float[] positiveCorrection;
    private float[] negativeMask;
    private ItemVocabulary.Admission admission;
    private int[] freshRows;
    private float[][][] freshWeights;
    private List<String> sighted;

    private SuccessorSlots successors;
    private SuccessorSlots.Columns columns;
    private long[] lastRows;
    private long[] globalTargetRows;
    private float[] successorAddend;
    private float[] probabilities;

    private Examples(ModelConfig config, Network network) {
        this.config = config;
        this.network = network;
    }

    static Examples forTraining(OnlineLearner learner, Batch batch) {
        return prepare(learner, batch, true);
    }

    static Examples forEvaluation(OnlineLearner learner, Batch batch) {
        return prepare(learner, batch, false);
    }

    private static Examples prepare(OnlineLearner learner, Batch batch, boolean training) {
        ModelConfig config = learner.config();
        if (batch == null) {
            throw new IllegalArgumentException("batch must not be null");
        }
        batch.check(config);
        Examples e = new Examples(config, learner.network());
        if (config.task() == Task.NEXT_ITEM) {
            e.successors = learner.successorSlots();
            e.items(learner, batch, training);
        } else {
            e.values(batch);
        }
        return e;
    }

    private void values(Batch batch) {
        float[][] windows = batch.windows();
        int w = config.window();
        int f = config.features();
        rows = windows.length;
        inputs = new float[rows * w * f];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(windows[r], 0, inputs, r * w * f, w * f);
        }
        if (config.task() == Task.NEXT_VALUE) {
            last = new float[rows * f];
            targets = new float[rows * f];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(windows[r], (w - 1) * f, last, r * f, f);
                System.arraycopy(batch.targets()[r], 0, targets, r * f, f);
            }
        }
    }

    private void items(OnlineLearner learner, Batch batch, boolean training) {
        ItemVocabulary vocabulary = learner.vocabulary();
        String[][] histories = batch.histories();
        String[] next = batch.nextItems();
        int w = config.window();
        sighted = new ArrayList<>();
        for (int r = 0; r < histories.length; r++) {
            String[] h = histories[r];
            for (int t = Math.max(0, h.length - w); t < h.length; t++) {
                sighted.add(h[t]);
            }
            sighted.add(next[r]);
        }
        int inUse;
        if (training) {
            admission = vocabulary.plan(sighted, Arrays.asList(next));
            inUse = admission.rowsInUseAfter();
        } else {
            inUse = vocabulary.rowsInUse();
        }
        // Examples whose next item has no row cannot be scored; they are left out.
        List<Integer> kept = new ArrayList<>();
        for (int r = 0; r < next.length; r++) {
            if (rowOf(vocabulary, next[r]) > 0) {
                kept.add(r);
            }
        }
        rows = kept.size();
        if (rows == 0) {
            return;
        }
        long[] globalInputs = new long[rows * w];
        padding = new float[rows * w];
        long[] globalTargets = new long[rows];
        for (int k = 0; k < rows; k++) {
            int r = kept.get(k);
            String[] h = histories[r];
            int used = Math.min(w, h.length);
            for (int t = 0; t < w - used; t++) {
                padding[k * w + t] = 1f;
            }
            for (int t = 0; t < used; t++) {
                int row = rowOf(vocabulary, h[h.length - used + t]);
                globalInputs[k * w + (w - used) + t] = row;
                if (row == 0) {
                    padding[k * w + (w - used) + t] = 1f;
                }
            }
            globalTargets[k] = rowOf(vocabulary, next[r]);
        }
        long stepSeed = OnlineLearner.mix(config.seed(), learner.currentStep() + 1);
        if (config.sampledSoftmax()) {
            sample(vocabulary, globalInputs, globalTargets, stepSeed);
        } else {
            tableRows = new int[inUse];
            for (int i = 0; i < inUse; i++) {
                tableRows[i] = i;
            }
            itemRows = globalInputs;
            targetRows = globalTargets;
            columns = SuccessorSlots.Columns.full(inUse);
        }
        drawFreshRows(stepSeed);
        if (successors != null) {
            lastRows = SuccessorSlots.lastRows(globalInputs, w);
            globalTargetRows = globalTargets;
            int[] fresh = freshRows.clone();
            Arrays.sort(fresh);
            successorAddend = successors.addend(lastRows, columns, fresh);
        }
    }

    /**
     * Draws the step's negatives from the vocabulary's popularity proposal (with replacement, one
     * set shared by the batch), and works out the log-Q correction of every column: - ln(n Q(row)),
     * n the number of draws, so that the sampled softmax's gradient is an unbiased estimate of the
     * full one's (Jean et al. 2015; Bengio and Senecal 2008). A target that is also drawn as a
     * negative is masked in that column (an accidental hit).
     */
    private void sample(
            ItemVocabulary vocabulary, long[] globalInputs, long[] globalTargets, long stepSeed) {
        ItemVocabulary.Proposal proposal = vocabulary.proposal();
        int count = proposal.isEmpty() ? 0 : config.negatives();
        long[] globalNegatives = new long[count];
        Random random = new Random(OnlineLearner.mix(stepSeed, 0x4E45474154L));
        for (int i = 0; i < count; i++) {
            globalNegatives[i] = proposal.draw(random);
        }
        negativeCorrection = new float[count];
        for (int i = 0; i < count; i++) {
            negativeCorrection[i] =
                    (float) -Math.log(count * proposal.probability((int) globalNegatives[i]));
        }
        positiveCorrection = new float[rows];
        for (int k = 0; k < rows; k++) {
            positiveCorrection[k] =
                    count == 0
                            ? 0f
                            : (float)
                                    -Math.log(count * proposal.probability((int) globalTargets[k]));
        }
        TreeSet<Long> touched = new TreeSet<>();
        touched.add(0L);
        for (long v : globalInputs) {
            touched.add(v);
        }
        for (long v : globalTargets) {
            touched.add(v);
        }
        for (long v : globalNegatives) {
            touched.add(v);
        }
        tableRows = touched.stream().mapToInt(Long::intValue).toArray();
        columns = SuccessorSlots.Columns.sampled(globalTargets, globalNegatives);
        itemRows = local(globalInputs);
        targetRows = local(globalTargets);
        negatives = local(globalNegatives);
        negativeMask = new float[rows * count];
        for (int k = 0; k < rows; k++) {
            for (int i = 0; i < count; i++) {
                negativeMask[k * count + i] =
                        negativeCorrection[i]
                                + (globalNegatives[i] == globalTargets[k] ? Network.MASKED : 0f);
            }
        }
    }

    private int rowOf(ItemVocabulary vocabulary, String id) {
        return admission != null ? admission.rowOf(id) : vocabulary.rowOf(id);
    }

    private long[] local(long[] global) {
        long[] out = new long[global.length];
        for (int i = 0; i < global.length; i++) {
            out[i] = Arrays.binarySearch(tableRows, (int) global[i]);
        }
        return out;
    }

    /**
     * Draws the fresh values of the rows the admission hands to new ids, for every item table. The
     * embedding table's fresh rows are drawn from (seed, step, row), as before the output table
     * existed; the other tables' from (seed, step, row, tensor).
     */
    private void drawFreshRows(long stepSeed) {
        int[] tables = network.itemTables();
        int embedding = network.itemTable();
        freshRows = admission == null ? new int[0] : admission.freshRows();
        freshWeights = new float[tables.length][freshRows.length][];
        for (int t = 0; t < tables.length; t++) {
            int table = tables[t];
            ParameterLayout.Tensor tensor = network.layout().get(table);
            int h = tensor.rowLength();
            for (int i = 0; i < freshRows.length; i++) {
                Random random =
                        new Random(
                                table == embedding
                                        ? OnlineLearner.mix(stepSeed, freshRows[i])
                                        : OnlineLearner.mix(stepSeed, freshRows[i], table));
                freshWeights[t][i] = new float[h];
                for (int j = 0; j < h; j++) {
                    freshWeights[t][i][j] = tensor.draw(random);
                }
            }
        }
    }

    /**
     * Writes the touched rows of an item table into a staging buffer, in {@link #tableRows} order,
     * with the fresh values of rows the admission hands to new ids. Rows are ascending, so runs of
     * consecutive rows (all of them with the full softmax) are copied at once.
     */
    private void gather(float[] full, int h, float[][] fresh, FloatBuffer local) {
        for (int k = 0; k < tableRows.length; ) {
            int run = OptimizerStep.runLength(tableRows, k);
            local.put(k * h, full, tableRows[k] * h, run * h);
            k += run;
        }
        for (int i = 0; i < freshRows.length; i++) {
            int k = Arrays.binarySearch(tableRows, freshRows[i]);
            if (k >= 0) {
                local.put(k * h, fresh[i]);
            }
        }
    }

    boolean isEmpty() {
        return rows == 0;
    }

    /** Rows of the item table the step touched, in the order of its local gradient. */
    int[] tableRows() {
        return tableRows;
    }

    /**
     * Creates the step's parameter arrays in the learner's staging buffers: every tensor from the
     * weights, but the item tables from the rows the step touches only. The arrays alias the
     * buffers (see {@link StepBuffers}): they must be closed, with the scope, before the next step.
     */
    NDArray[] parameters(NDManager scope, float[][] weights, StepBuffers buffers) {
        ParameterLayout layout = network.layout();
        NDArray[] p = new NDArray[layout.size()];
        if (tableRows != null) {
            int[] tables = network.itemTables();
            for (int t = 0; t < tables.length; t++) {
                int table = tables[t];
                if (layout.get(table).outsideOptimizer()) {
                    continue;
                }
                long[] shape = layout.get(table).shape();
                int h = layout.get(table).rowLength();
                shape[0] = tableRows.length;
                gather(
                        weights[table],
                        h,
                        freshWeights[t],
                        buffers.stage(table, tableRows.length * h));
                p[table] = buffers.upload(scope, table, new Shape(shape));
            }
        }
        for (int i = 0; i < p.length; i++) {
            // The successor slots stay in Java: the network never reads them (null here).
            if (p[i] == null && !layout.get(i).outsideOptimizer()) {
                p[i] = buffers.upload(scope, i, weights[i]);
            }
        }
        return p;
    }

    /** Applies the vocabulary admission: new ids get their rows, fresh weights, zero moments. */
    void commit(float[][] weights, float[][][] slots) {
        if (admission == null) {
            return;
        }
        admission.commit();
        int[] tables = network.itemTables();
        for (int t = 0; t < tables.length; t++) {
            int table = tables[t];
            ParameterLayout.Tensor tensor = network.layout().get(table);
            int h = tensor.rowLength();
            for (int i = 0; i < freshRows.length; i++) {
                int from = freshRows[i] * h;
                System.arraycopy(freshWeights[t][i], 0, weights[table], from, h);
                for (float[][] slot : slots) {
                    if (!tensor.outsideOptimizer()) {
                        Arrays.fill(slot[table], from, from + h, 0f);
                    }
                }
            }
        }
    }

    /**
     * Updates the successor slots from the step's softmax, after {@link #commit}; nothing without
     * slots. Marks the rows whose slots it changed.
     */
    void learnSuccessors(BitSet changed) {
        if (successors != null && probabilities != null) {
            successors.learn(lastRows, globalTargetRows, columns, probabilities, changed);
        }
    }

    /**
     * Marks the item rows a committed training step changed: those its gradient reached, those
     * handed to new ids, and those of every id it saw (their recency) or counted (the targets), in
     * examples left out too. Nothing for other tasks.
     *
     * @param vocabulary the vocabulary after the commit
     * @param changed where the rows are set
     */
    void markChanged(ItemVocabulary vocabulary, BitSet changed) {
        if (tableRows == null) {
            return;
        }
        for (int row : tableRows) {
            changed.set(row);
        }
        for (int row : freshRows) {
            changed.set(row);
        }
        for (String id : sighted) {
            changed.set(vocabulary.rowOf(id));
        }
    }

    NDArray valueInputs(NDManager scope) {
        return scope.create(inputs, new Shape(rows, config.window(), config.features()));
    }

    NDArray lastValues(NDManager scope) {
        return scope.create(last, new Shape(rows, config.features()));
    }

    NDArray valueTargets(NDManager scope) {
        return scope.create(targets, new Shape(rows, config.features()));
    }

    NDArray itemInputs(NDManager scope) {
        return scope.create(itemRows, new Shape(rows, config.window()));
    }

    NDArray padding(NDManager scope) {
        return scope.create(padding, new Shape(rows, config.window()));
    }

    /**
     * Cross-entropy of the next item, full or sampled, with the successor slots' term in the
     * logits. Training with slots keeps the softmax for {@link #learnSuccessors}.
     */
    NDArray itemLoss(NDManager scope, Network network, NDArray[] p, NDArray query) {
        NDArray targetIndex = scope.create(targetRows, new Shape(rows, 1));
        if (!config.sampledSoftmax()) {
            float[] mask = new float[tableRows.length];
            mask[0] = Network.MASKED;
            NDArray logits =
                    withSuccessors(
                            scope,
                            network.itemScores(p, query)
                                    .add(scope.create(mask, new Shape(mask.length))));
            NDArray logProbabilities = logits.logSoftmax(1);
            keepProbabilities(logProbabilities);
            return logProbabilities.gather(targetIndex, 1).neg().mean();
        }
        NDArray logits =
                network.itemScore(p, query, targetIndex.reshape(rows))
                        .add(scope.create(positiveCorrection, new Shape(rows, 1)));
        if (negatives.length > 0) {
            NDArray negative =
                    network.itemScores(p, query, scope.create(negatives))
                            .add(scope.create(negativeMask, new Shape(rows, negatives.length)));
            logits = logits.concat(negative, 1);
        }
        NDArray logProbabilities = withSuccessors(scope, logits).logSoftmax(1);
        keepProbabilities(logProbabilities);
        return logProbabilities.get(":, 0").neg().mean();
    }

    /** The logits with the successor slots' term added; as they are without slots. */
    private NDArray withSuccessors(NDManager scope, NDArray logits) {
        if (successorAddend == null) {
            return logits;
        }
        return logits.add(scope.create(successorAddend, new Shape(rows, columns.width())));
    }

    /** Keeps the softmax of a training step with successor slots, for their update. */
    private void keepProbabilities(NDArray logProbabilities) {
        if (successors != null && admission != null) {
            try (NDArray p = logProbabilities.stopGradient().exp()) {
                probabilities = p.toFloatArray();
            }
        }
    }
}
