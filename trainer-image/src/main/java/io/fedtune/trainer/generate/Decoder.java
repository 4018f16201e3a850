package io.fedtune.trainer.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.fedtune.trainer.model.KvCache;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Autoregressive decoding of one prompt at a time. {@link Mode#CACHED} runs the prompt once and then only each new
 * token against a {@link KvCache}; {@link Mode#RECOMPUTE} runs the whole sequence again every step (the reference
 * the cache is checked and benchmarked against).
 */
public final class Decoder {
    public enum Mode { CACHED, RECOMPUTE }

    private final LlamaModel model;
    private final LoraArrays lora;
    private final Mode mode;

    /** @param lora the adapter's arrays (inference, no gradients), or null for the base model alone */
    public Decoder(LlamaModel model, LoraArrays lora, Mode mode) {
        this.model = model;
        this.lora = lora;
        this.mode = mode;
    }

    public Completion run(int[] prompt, Sampling sampling, SplittableRandom random, StopRule stop) {
        int context = model.config().maxPositionEmbeddings();
        if (prompt.length == 0 || prompt.length >= context) {
            throw new IllegalArgumentException("a prompt must have 1 to " + (context - 1) + " tokens (max_position_embeddings "
                    + context + "), got " + prompt.length);
        }
        int capacity = Math.min(context, prompt.length + stop.maxNewTokens());
        int[] sequence = Arrays.copyOf(prompt, capacity);
        int length = prompt.length;
        StopReason reason = null;
        try (KvCache cache = mode == Mode.CACHED ? new KvCache(model, 1, capacity) : null) {
            while (reason == null) {
                float[] logits = mode == Mode.CACHED
                        ? lastLogits(Arrays.copyOfRange(sequence, cache.length(), length), cache)
                        : lastLogits(Arrays.copyOf(sequence, length), null);
                sequence[length++] = sampling.next(logits, random);
                reason = stop.check(Arrays.copyOfRange(sequence, prompt.length, length));
                if (reason == null && length == context) {
                    reason = StopReason.CONTEXT_LENGTH;
                }
            }
        }
        int[] generated = Arrays.copyOfRange(sequence, prompt.length, length);
        return new Completion(generated, stop.text(generated, reason), reason);
    }

    private float[] lastLogits(int[] ids, KvCache cache) {
        try (NDManager step = model.manager().newSubManager()) {
            long[] l = Arrays.stream(ids).asLongStream().toArray();
            NDArray logits = model.logits(step.create(l, new Shape(1, l.length)), lora, cache);
            return logits.get(step, new ai.djl.ndarray.index.NDIndex(0, l.length - 1)).toFloatArray();
        }
    }
}
