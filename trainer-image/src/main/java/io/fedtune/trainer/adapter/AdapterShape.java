package io.fedtune.trainer.adapter;

import java.util.List;

/**
 * The in and out features of each target module, per layer, as the base model defines them;
 * what an adapter's factor shapes are checked against.
 */
public interface AdapterShape {
    int layers();

    /** The target modules every layer has; Llama's separate projections unless the model fuses them. */
    default List<LoraTarget> modules() {
        return LoraTarget.SEPARATE;
    }

    int inFeatures(LoraTarget target);

    int outFeatures(LoraTarget target);
}
