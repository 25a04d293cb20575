package io.streamlearn.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The forecaster's network: a batch-first DJL {@link LSTM} over the encoded window, its output at
 * the last time step, and a {@link Linear} head to {@code features} normalised deltas.
 *
 * <p>The blocks hold no weights that matter. Every forward pass takes its parameter arrays from the
 * caller through a {@link ParameterStore} that only hands them out: the learner creates fresh
 * arrays from its Java weights in each step's scope (so gradients never accumulate across steps and
 * nothing native outlives a step), and the forecaster creates them once in its own manager. The
 * blocks' own arrays are zeros in the owner's manager, allocated only so that DJL sets the
 * parameter shapes, which are checked here against {@link ParameterLayout}.
 */
final class LstmNetwork {

    private final ForecasterConfig config;
    private final LSTM lstm;
    private final Linear head;
    private final List<Parameter> parameters;
    private final List<ParameterLayout.Tensor> layout;

    /**
     * Builds the blocks and fixes their parameter shapes.
     *
     * @param config the config
     * @param owner the manager that owns the blocks' placeholder arrays
     */
    LstmNetwork(ForecasterConfig config, NDManager owner) {
        this.config = config;
        this.lstm =
                LSTM.builder()
                        .setStateSize(config.hiddenSize())
                        .setNumLayers(config.layers())
                        .optBatchFirst(true)
                        .build();
        this.head = Linear.builder().setUnits(config.features()).build();
        lstm.setInitializer(Initializer.ZEROS, p -> true);
        head.setInitializer(Initializer.ZEROS, p -> true);
        lstm.initialize(owner, DataType.FLOAT32, new Shape(1, config.window(), config.features()));
        head.initialize(owner, DataType.FLOAT32, new Shape(1, config.hiddenSize()));

        parameters = new ArrayList<>();
        lstm.getParameters().values().forEach(parameters::add);
        head.getParameters().values().forEach(parameters::add);
        layout = ParameterLayout.of(config);
        if (parameters.size() != layout.size()) {
            throw new IllegalStateException(
                    "DJL's LSTM and Linear have "
                            + parameters.size()
                            + " parameters; expected "
                            + layout.size());
        }
        for (int i = 0; i < layout.size(); i++) {
            ParameterLayout.Tensor t = layout.get(i);
            Parameter p = parameters.get(i);
            String expectedName = t.name().startsWith("head_") ? t.name().substring(5) : t.name();
            if (!p.getName().equals(expectedName)
                    || !Arrays.equals(p.getShape().getShape(), t.shape())) {
                throw new IllegalStateException(
                        "DJL parameter "
                                + i
                                + " is "
                                + p.getName()
                                + p.getShape()
                                + "; expected "
                                + t.name()
                                + Arrays.toString(t.shape()));
            }
        }
    }

    /**
     * Creates parameter arrays from Java weights.
     *
     * @param manager the manager that owns the arrays
     * @param weights one array per tensor, in layout order
     * @param requiresGradient whether autograd should track them
     * @return the arrays, in layout order
     */
    List<NDArray> createParameters(NDManager manager, float[][] weights, boolean requiresGradient) {
        List<NDArray> arrays = new ArrayList<>(layout.size());
        for (int i = 0; i < layout.size(); i++) {
            NDArray a = manager.create(weights[i], new Shape(layout.get(i).shape()));
            if (requiresGradient) {
                a.setRequiresGradient(true);
            }
            arrays.add(a);
        }
        return arrays;
    }

    /**
     * Runs the network on an encoded batch.
     *
     * @param scope the manager that owns the input and every intermediate array
     * @param encoded the encoded windows
     * @param parameterArrays the parameter arrays from {@link #createParameters}
     * @param training whether this is a training pass
     * @return normalised deltas of shape (rows, features), owned by {@code scope}
     */
    NDArray forward(
            NDManager scope,
            WindowEncoding encoded,
            List<NDArray> parameterArrays,
            boolean training) {
        ParameterStore store = new GivenParameters(scope, parameters, parameterArrays);
        NDArray input =
                scope.create(
                        encoded.inputs(),
                        new Shape(encoded.rows(), config.window(), config.features()));
        NDArray sequence = lstm.forward(store, new NDList(input), training).singletonOrThrow();
        NDArray lastStep = sequence.get(new NDIndex().addAllDim().addIndices(config.window() - 1));
        return head.forward(store, new NDList(lastStep), training).singletonOrThrow();
    }

    /** A parameter store that hands out the caller's arrays and never copies or creates any. */
    private static final class GivenParameters extends ParameterStore {
        private final Map<String, NDArray> byId;

        GivenParameters(NDManager scope, List<Parameter> parameters, List<NDArray> arrays) {
            super(scope, false);
            byId = new HashMap<>(parameters.size() * 2);
            for (int i = 0; i < parameters.size(); i++) {
                byId.put(parameters.get(i).getId(), arrays.get(i));
            }
        }

        @Override
        public NDArray getValue(Parameter parameter, Device device, boolean training) {
            if (parameter == null) {
                return null;
            }
            NDArray array = byId.get(parameter.getId());
            if (array == null) {
                throw new IllegalStateException("No array for parameter " + parameter.getName());
            }
            return array;
        }
    }
}
