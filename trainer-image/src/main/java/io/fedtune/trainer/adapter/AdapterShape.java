package io.fedtune.trainer.adapter;

/**
 * The in and out features of each target module, per layer, as the base model defines them;
 * what an adapter's factor shapes are checked against.
 */
public interface AdapterShape {
    int layers();

    int inFeatures(LoraTarget target);

    int outFeatures(LoraTarget target);
}
