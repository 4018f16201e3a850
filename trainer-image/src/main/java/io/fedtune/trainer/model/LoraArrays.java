package io.fedtune.trainer.model;

import ai.djl.ndarray.NDArray;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.AdapterTensorName;
import io.fedtune.trainer.adapter.LoraTarget;

import java.util.Map;

/**
 * The adapter factors as arrays for one forward pass, keyed by PEFT tensor name.
 * Dropout applies to the adapter's input only while training.
 */
public record LoraArrays(AdapterConfig config, Map<String, NDArray> arrays, boolean training) {

    public boolean targets(LoraTarget t) {
        return config.targetModules().contains(t);
    }

    public NDArray a(int layer, LoraTarget t) {
        return arrays.get(AdapterTensorName.of(layer, t, AdapterTensorName.Factor.A));
    }

    public NDArray b(int layer, LoraTarget t) {
        return arrays.get(AdapterTensorName.of(layer, t, AdapterTensorName.Factor.B));
    }
}
