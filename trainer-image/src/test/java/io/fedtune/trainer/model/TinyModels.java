package io.fedtune.trainer.model;

/** Tiny configs that keep tests fast but exercise grouped-query attention, biases and tied embeddings. */
public final class TinyModels {
    private TinyModels() {
    }

    public static ModelConfig llama(int vocab) {
        return new ModelConfig("LlamaForCausalLM", vocab, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, false, false, 128, 1, 2);
    }

    public static ModelConfig qwen2Tied(int vocab) {
        return new ModelConfig("Qwen2ForCausalLM", vocab, 32, 40, 2, 4, 1, 8, 1e-6, 1_000_000.0, true, true, 128, 1, 2);
    }

    /** head_dim 16, not hidden 32 / 4 heads: Qwen3 sets it explicitly. */
    public static ModelConfig qwen3(int vocab, boolean tied, boolean bias) {
        return new ModelConfig(ModelConfig.QWEN3, vocab, 32, 40, 2, 4, 2, 16, 1e-6, 1_000_000.0, tied, bias, 128, 1, 2);
    }

    public static ModelConfig mistral(int vocab) {
        return new ModelConfig("MistralForCausalLM", vocab, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, false, false, 128, 1, 2);
    }

    /**
     * Gemma 2, two layers (sliding, then global) with a window of 4, head_dim 16 with query_pre_attn_scalar 24 so the
     * score scale differs from head_dim's, soft-caps low enough that tanh bends the scores and logits.
     */
    public static ModelConfig gemma2(int vocab, Double attnCap, Double finalCap) {
        return new ModelConfig(Gemma.GEMMA2, vocab, 32, 40, 2, 4, 2, 16, 1e-6, 10000.0, true, false, 128, 2, 1)
                .withGemma(new Gemma(24, attnCap, finalCap, Gemma.pattern(2, 2), null), 4);
    }

    /**
     * Gemma 3 text, three layers with sliding_window_pattern 3 (sliding, sliding, global), window 4, q/k norms, rope
     * base 10000 on sliding layers and 1e6 with linear scaling on the global one.
     */
    public static ModelConfig gemma3(int vocab, Double attnCap, Double finalCap) {
        return new ModelConfig(Gemma.GEMMA3, vocab, 32, 40, 3, 4, 2, 16, 1e-6, 1_000_000.0, true, false, 128, 2, 1)
                .withRopeScaling(RopeScaling.linear(8))
                .withGemma(new Gemma(16, attnCap, finalCap, Gemma.pattern(3, 3), 10000.0), 4);
    }

    /** Phi-3-mini's layout in small: fused qkv_proj and gate_up_proj, grouped-query attention, untied, plain RoPE. */
    public static ModelConfig phi3(int vocab) {
        return new ModelConfig(ModelConfig.PHI3, vocab, 32, 40, 2, 4, 2, 8, 1e-5, 10000.0, false, false, 128, 1, 2);
    }

    /** Phi-4-mini's in small: tied embeddings, head_dim 16 of which partial_rotary_factor 0.75 turns 12. */
    public static ModelConfig phi4Mini(int vocab) {
        return new ModelConfig(ModelConfig.PHI3, vocab, 64, 48, 2, 4, 2, 16, 1e-5, 10000.0, true, false, 128, 1, 2)
                .withPartialRotaryFactor(0.75);
    }

    /** Hidden 64 and intermediate 128: every projection's input is a multiple of Int4's group of 64. */
    public static ModelConfig llama64(int vocab) {
        return new ModelConfig("LlamaForCausalLM", vocab, 64, 128, 2, 4, 2, 16, 1e-5, 10000.0, false, false, 128, 1, 2);
    }
}
