package io.fedtune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Keys (after rotary embedding) and values of the tokens a decoder has seen, per layer, in buffers of a fixed
 * capacity [batch, kvHeads, capacity, headDim], so that a decoding step computes only its new tokens. Grouped-query
 * attention keeps kvHeads, not heads, here. Sliding-window layers keep every position too: LlamaModel's mask hides
 * those beyond the window, as recomputing the whole sequence would. Inference only: the buffers are written in place.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager store;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;
    private int length;

    public KvCache(LlamaModel model, int batch, int capacity) {
        ModelConfig c = model.config();
        this.store = model.manager().newSubManager();
        this.capacity = capacity;
        this.keys = new NDArray[c.layers()];
        this.values = new NDArray[c.layers()];
        Shape shape = new Shape(batch, c.kvHeads(), capacity, c.headDim());
        for (int i = 0; i < c.layers(); i++) {
            keys[i] = store.zeros(shape, model.computeType());
            values[i] = store.zeros(shape, model.computeType());
        }
    }

    /** Tokens cached so far; the next token's position. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Writes one layer's new keys and values [batch, kvHeads, time, headDim] after the cached ones and returns all of
     * them, positions 0 .. length + time - 1, as views owned by the new keys' manager (the caller's step).
     */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        long time = k.getShape().get(2);
        if (length + time > capacity) {
            throw new IllegalStateException("KV cache of " + capacity + " positions cannot take " + time + " more after " + length);
        }
        NDIndex fresh = new NDIndex(":, :, {}:{}", length, length + time);
        keys[layer].set(fresh, k);
        values[layer].set(fresh, v);
        NDIndex all = new NDIndex(":, :, :{}", length + time);
        return new NDArray[]{keys[layer].get(k.getManager(), all), values[layer].get(k.getManager(), all)};
    }

    /** Called once every layer has appended the same tokens. */
    void advance(int time) {
        length += time;
    }

    @Override
    public void close() {
        store.close();
    }
}
