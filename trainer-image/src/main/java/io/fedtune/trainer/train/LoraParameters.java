package io.fedtune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.AdapterMismatchException;
import io.fedtune.trainer.adapter.AdapterShape;
import io.fedtune.trainer.adapter.AdapterTensorName;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.model.LoraArrays;
import io.fedtune.trainer.safetensors.FloatTensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The adapter's trainable values, kept as Java floats between steps so the optimizer is exact and
 * repeatable; each step turns them into fresh arrays that autograd can reach.
 */
public final class LoraParameters {
    private final AdapterConfig config;
    private final Map<String, FloatTensor> tensors;

    private LoraParameters(AdapterConfig config, Map<String, FloatTensor> tensors) {
        this.config = config;
        this.tensors = tensors;
    }

    /**
     * A seeded, PEFT-style start: A uniform in +-1/sqrt(in) (Kaiming with a=sqrt(5)), B zero, so the
     * adapter starts as the identity. The same seed gives the same A on every shard (FFA-LoRA relies on it).
     */
    public static LoraParameters initial(AdapterConfig config, AdapterShape model, long seed) {
        Map<String, FloatTensor> t = new TreeMap<>();
        for (int layer = 0; layer < model.layers(); layer++) {
            for (LoraTarget target : config.targetModules()) {
                int in = model.inFeatures(target);
                int out = model.outFeatures(target);
                SplittableRandom random = new SplittableRandom(seed * 1_000_003L + layer * 31L + target.ordinal());
                float[] a = new float[config.r() * in];
                double bound = 1.0 / Math.sqrt(in);
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
                t.put(AdapterTensorName.of(layer, target, AdapterTensorName.Factor.A), FloatTensor.f32(a, config.r(), in));
                t.put(AdapterTensorName.of(layer, target, AdapterTensorName.Factor.B),
                        FloatTensor.f32(new float[out * config.r()], out, config.r()));
            }
        }
        return new LoraParameters(config, t);
    }

    /** Starts from an existing (global) adapter after checking it fits the model and the requested shape. */
    public static LoraParameters from(Adapter adapter, AdapterShape model) throws AdapterMismatchException {
        adapter.checkFits(model);
        Map<String, FloatTensor> t = new TreeMap<>();
        adapter.tensors().forEach((k, v) -> t.put(k, FloatTensor.f32(v.values().clone(), v.shape())));
        return new LoraParameters(adapter.config(), t);
    }

    public AdapterConfig config() {
        return config;
    }

    public Map<String, FloatTensor> tensors() {
        return tensors;
    }

    public LoraParameters copy() {
        Map<String, FloatTensor> t = new TreeMap<>();
        tensors.forEach((k, v) -> t.put(k, FloatTensor.f32(v.values().clone(), v.shape())));
        return new LoraParameters(config, t);
    }

    public Adapter toAdapter() {
        return new Adapter(config, tensors);
    }

    public static boolean isA(String name) {
        return name.endsWith(".lora_A.weight");
    }

    /** Arrays for one forward pass; those for which trainable is true require gradients. */
    public LoraArrays arrays(NDManager manager, boolean training, boolean freezeA) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            NDArray a = manager.create(t.values(), new Shape(t.shape()));
            if (training && !(freezeA && isA(name))) {
                a.setRequiresGradient(true);
            }
            arrays.put(name, a);
        });
        return new LoraArrays(config, arrays, training);
    }
}
