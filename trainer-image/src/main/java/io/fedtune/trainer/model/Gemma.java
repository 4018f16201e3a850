package io.fedtune.trainer.model;

import java.util.ArrayList;
import java.util.List;

/**
 * What Gemma 2 and Gemma 3 (text) change in the Llama-family decoder, as Hugging Face's modeling_gemma2/gemma3 define
 * it: RMSNorm scales by (1 + weight) in float32; embeddings are multiplied by sqrt(hidden_size) in the model dtype;
 * the MLP is GeGLU with the tanh gelu; each layer norms the attention output and the MLP's input and output too;
 * attention scores are scaled by query_pre_attn_scalar^-0.5 and optionally tanh soft-capped, as are the final logits;
 * sliding and global layers interleave. Gemma 3 adds per-head q_norm/k_norm and plain RoPE of its own base on sliding
 * layers.
 *
 * @param attnLogitSoftcapping  scores become cap * tanh(scores / cap) before the mask; null for none
 * @param finalLogitSoftcapping the same on the logits; null for none
 * @param slidingLayers         per layer, true where it attends within the sliding window
 * @param ropeLocalBaseFreq     the RoPE base of sliding layers, without rope_scaling (Gemma 3's rope_local_base_freq);
 *                              null where every layer uses rope_theta and rope_scaling (Gemma 2)
 */
public record Gemma(double queryPreAttnScalar, Double attnLogitSoftcapping, Double finalLogitSoftcapping,
                    List<Boolean> slidingLayers, Double ropeLocalBaseFreq) {
    public static final String GEMMA2 = "Gemma2ForCausalLM";
    public static final String GEMMA3 = "Gemma3ForCausalLM";

    public Gemma {
        slidingLayers = List.copyOf(slidingLayers);
    }

    public static boolean is(String architecture) {
        return architecture.equals(GEMMA2) || architecture.equals(GEMMA3);
    }

    /** Gemma2Config's or Gemma3TextConfig's defaults for the fields here; null for other architectures. */
    public static Gemma defaults(String architecture, int layers) {
        return switch (architecture) {
            case GEMMA2 -> new Gemma(256, 50.0, 30.0, pattern(layers, 2), null);
            case GEMMA3 -> new Gemma(256, null, null, pattern(layers, 6), 10000.0);
            default -> null;
        };
    }

    /**
     * Hugging Face's default layer types: sliding except every pattern-th layer (Gemma 2: 2, so layer 0 slides and
     * layer 1 is global; Gemma 3: sliding_window_pattern, 6 by default).
     */
    public static List<Boolean> pattern(int layers, int pattern) {
        List<Boolean> sliding = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            sliding.add((i + 1) % pattern != 0);
        }
        return sliding;
    }

    public boolean sliding(int layer) {
        return slidingLayers.get(layer);
    }
}
