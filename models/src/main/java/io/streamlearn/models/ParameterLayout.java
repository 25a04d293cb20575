package io.streamlearn.models;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The parameter tensors of the forecaster, in the fixed order used by {@link ModelState}: per LSTM
 * layer {@code l} the input weights (4H x in), recurrent weights (4H x H), input bias (4H) and
 * recurrent bias (4H), with gates in PyTorch order (input, forget, cell, output) and {@code in} =
 * features for layer 0 and H above; then the head's weight (features x H) and bias (features).
 *
 * <p>Pure Java, so that the codec can check a state's array lengths without loading the engine;
 * {@link LstmNetwork} checks that DJL's blocks agree with it.
 */
final class ParameterLayout {

    /** One tensor: its name (DJL's, head tensors prefixed) and its shape. */
    static final class Tensor {
        private final String name;
        private final long[] shape;
        private final int size;

        Tensor(String name, long... shape) {
            this.name = name;
            this.shape = shape.clone();
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
    }

    private ParameterLayout() {}

    /**
     * Lists the tensors of the network a config describes.
     *
     * @param config the config
     * @return the tensors, in state order
     */
    static List<Tensor> of(ForecasterConfig config) {
        long gates = 4L * config.hiddenSize();
        long hidden = config.hiddenSize();
        List<Tensor> tensors = new ArrayList<>();
        for (int l = 0; l < config.layers(); l++) {
            long in = l == 0 ? config.features() : hidden;
            tensors.add(new Tensor("l_" + l + "_i2h_WEIGHT", gates, in));
            tensors.add(new Tensor("l_" + l + "_h2h_WEIGHT", gates, hidden));
            tensors.add(new Tensor("l_" + l + "_i2h_BIAS", gates));
            tensors.add(new Tensor("l_" + l + "_h2h_BIAS", gates));
        }
        tensors.add(new Tensor("head_weight", config.features(), hidden));
        tensors.add(new Tensor("head_bias", config.features()));
        return Collections.unmodifiableList(tensors);
    }

    /**
     * Checks that arrays have the count and lengths the config implies.
     *
     * @param config the config
     * @param what what the arrays are, for the message
     * @param arrays the arrays
     * @throws IllegalArgumentException naming the first mismatch
     */
    static void check(ForecasterConfig config, String what, float[][] arrays) {
        List<Tensor> tensors = of(config);
        if (arrays == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (arrays.length != tensors.size()) {
            throw new IllegalArgumentException(
                    what
                            + " must hold "
                            + tensors.size()
                            + " arrays for "
                            + config
                            + " but held "
                            + arrays.length);
        }
        for (int i = 0; i < arrays.length; i++) {
            Tensor t = tensors.get(i);
            if (arrays[i] == null || arrays[i].length != t.size()) {
                throw new IllegalArgumentException(
                        what
                                + "["
                                + i
                                + "] ("
                                + t.name()
                                + ") must hold "
                                + t.size()
                                + " values but held "
                                + (arrays[i] == null ? "null" : arrays[i].length));
            }
        }
    }

    /**
     * Returns zero-filled arrays shaped like the config's tensors.
     *
     * @param config the config
     * @return one zero array per tensor
     */
    static float[][] zeros(ForecasterConfig config) {
        List<Tensor> tensors = of(config);
        float[][] arrays = new float[tensors.size()][];
        for (int i = 0; i < arrays.length; i++) {
            arrays[i] = new float[tensors.get(i).size()];
        }
        return arrays;
    }
}
