package io.fedtune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.adapter.AdapterShape;
import io.fedtune.trainer.adapter.LoraTarget;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The subset of a Hugging Face {@code config.json} that defines a Llama-family decoder.
 *
 * @param ropeScaling         null for plain RoPE
 * @param slidingWindow       keys a query sees, itself included, on layers from windowFromLayer on (Gemma: on its
 *                            sliding layers); null for full attention
 * @param partialRotaryFactor the fraction of each head's dimensions the rotary embedding turns (Phi-3's
 *                            partial_rotary_factor; 1 elsewhere); the rest pass through unrotated
 * @param gemma               Gemma 2 and 3's departures from the Llama family; null for the other families
 */
public record ModelConfig(String architecture, int vocabSize, int hiddenSize, int intermediateSize, int layers,
                          int heads, int kvHeads, int headDim, double rmsNormEps, double ropeTheta,
                          boolean tieWordEmbeddings, boolean attentionBias, int maxPositionEmbeddings,
                          Integer bosTokenId, Integer eosTokenId, RopeScaling ropeScaling, Integer slidingWindow,
                          int windowFromLayer, double partialRotaryFactor, Gemma gemma) implements AdapterShape {
    public static final String FILE = "config.json";
    public static final String QWEN3 = "Qwen3ForCausalLM";
    /** Phi-3 and Phi-4-mini: fused qkv_proj and gate_up_proj, optionally partial rotary embeddings. */
    public static final String PHI3 = "Phi3ForCausalLM";
    public static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", QWEN3,
            PHI3, Gemma.GEMMA2, Gemma.GEMMA3);
    /** Hugging Face's MistralConfig default, taken when config.json has no sliding_window key at all. */
    static final int MISTRAL_DEFAULT_WINDOW = 4096;
    /** Hugging Face's Qwen2Config/Qwen3Config defaults. */
    static final int QWEN_DEFAULT_WINDOW = 4096;
    static final int QWEN_DEFAULT_MAX_WINDOW_LAYERS = 28;
    /** Gemma2Config's and Gemma3TextConfig's defaults. */
    static final int GEMMA_DEFAULT_HEAD_DIM = 256;
    static final int GEMMA_DEFAULT_WINDOW = 4096;
    static final int GEMMA3_DEFAULT_PATTERN = 6;
    static final double GEMMA3_DEFAULT_THETA = 1_000_000.0;
    /** Phi3Config's original_max_position_embeddings default, which transformers 5 puts over rope_scaling's. */
    static final int PHI3_DEFAULT_ORIGINAL_MAX = 4096;
    static final String GELU_TANH = "gelu_pytorch_tanh";
    private static final int PHI3_DEFAULT_PAD = 32000;
    private static final String FULL = "full_attention";
    private static final String SLIDING = "sliding_attention";

    public ModelConfig {
        if (Gemma.is(architecture) != (gemma != null)) {
            throw new IllegalArgumentException(architecture + (gemma == null ? " needs" : " has no") + " Gemma fields");
        }
    }

    /** Plain RoPE, full attention; Gemma with Gemma2Config's or Gemma3TextConfig's defaults (window 4096). */
    public ModelConfig(String architecture, int vocabSize, int hiddenSize, int intermediateSize, int layers,
                       int heads, int kvHeads, int headDim, double rmsNormEps, double ropeTheta,
                       boolean tieWordEmbeddings, boolean attentionBias, int maxPositionEmbeddings,
                       Integer bosTokenId, Integer eosTokenId) {
        this(architecture, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, headDim, rmsNormEps, ropeTheta,
                tieWordEmbeddings, attentionBias, maxPositionEmbeddings, bosTokenId, eosTokenId, null,
                Gemma.is(architecture) ? Integer.valueOf(GEMMA_DEFAULT_WINDOW) : null, 0, 1.0, Gemma.defaults(architecture, layers));
    }

    public ModelConfig withRopeScaling(RopeScaling scaling) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, headDim, rmsNormEps,
                ropeTheta, tieWordEmbeddings, attentionBias, maxPositionEmbeddings, bosTokenId, eosTokenId, scaling,
                slidingWindow, windowFromLayer, partialRotaryFactor, gemma);
    }

    /** Mistral applies the window from layer 0; Qwen2 and Qwen3 from max_window_layers. */
    public ModelConfig withSlidingWindow(Integer window, int fromLayer) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, headDim, rmsNormEps,
                ropeTheta, tieWordEmbeddings, attentionBias, maxPositionEmbeddings, bosTokenId, eosTokenId, ropeScaling,
                window, fromLayer, partialRotaryFactor, gemma);
    }

    /** A Gemma 2 or 3 config; its window applies on the layers gemma marks sliding. */
    public ModelConfig withGemma(Gemma features, Integer window) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, headDim, rmsNormEps,
                ropeTheta, tieWordEmbeddings, attentionBias, maxPositionEmbeddings, bosTokenId, eosTokenId, ropeScaling,
                window, 0, partialRotaryFactor, features);
    }

    /** Phi-3 only: Hugging Face's other decoders rotate every dimension whatever the config says. */
    public ModelConfig withPartialRotaryFactor(double factor) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, headDim, rmsNormEps,
                ropeTheta, tieWordEmbeddings, attentionBias, maxPositionEmbeddings, bosTokenId, eosTokenId, ropeScaling,
                slidingWindow, windowFromLayer, factor, gemma);
    }

    /** The dimensions of each head the rotary embedding turns, the first ones: int(head_dim * partial_rotary_factor). */
    public int rotaryDim() {
        return (int) (headDim * partialRotaryFactor);
    }

    /** Phi-3 computes q, k and v with one matrix (qkv_proj) and gate and up with another (gate_up_proj). */
    public boolean fusedProjections() {
        return architecture.equals(PHI3);
    }

    @Override
    public List<LoraTarget> modules() {
        return fusedProjections() ? LoraTarget.FUSED : LoraTarget.SEPARATE;
    }

    /** Fails naming the first target this checkpoint has no such module for, and listing those it has. */
    public void checkTargets(List<LoraTarget> targets) throws CheckpointInvalidException {
        for (LoraTarget t : targets) {
            if (!modules().contains(t)) {
                throw new CheckpointInvalidException("LoRA target " + t.moduleName() + " is not a module of " + architecture
                        + " (its modules: " + LoraTarget.names(modules()) + ")");
            }
        }
    }

    /** The sliding window of a layer, or null where it attends to every earlier position. */
    public Integer window(int layer) {
        if (gemma != null) {
            return gemma.sliding(layer) ? slidingWindow : null;
        }
        return slidingWindow != null && layer >= windowFromLayer ? slidingWindow : null;
    }

    /** Qwen3 and Gemma 3 RMS-normalise every query and key head (q_norm, k_norm) before the rotary embedding. */
    public boolean qkNorm() {
        return architecture.equals(QWEN3) || architecture.equals(Gemma.GEMMA3);
    }
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The largest config.json read: real ones are a few KB. */
    public static final long CAP = io.fedtune.trainer.storage.SmallFile.MiB;

    public static ModelConfig read(Path dir) throws CheckpointInvalidException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointInvalidException("checkpoint has no " + FILE + " in " + dir);
        }
        try {
            return parse(io.fedtune.trainer.storage.SmallFile.readString(file, CAP));
        } catch (io.fedtune.trainer.storage.SmallFile.TooLarge e) {
            throw new CheckpointInvalidException(e.getMessage(), e);
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public static ModelConfig parse(String json) throws CheckpointInvalidException {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (IOException e) {
            throw new CheckpointInvalidException(FILE + " is not valid JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new CheckpointInvalidException(FILE + " is not a JSON object");
        }
        String arch = n.path("architectures").path(0).asText(null);
        if (arch == null) {
            throw new CheckpointInvalidException(FILE + " names no architectures");
        }
        if (arch.equals("Qwen3MoeForCausalLM") || n.path("num_experts").asInt(0) > 0) {
            throw new CheckpointInvalidException("unsupported architecture " + arch + ": mixture of experts (num_experts "
                    + n.path("num_experts") + ") is not supported (supported: " + SUPPORTED + ")");
        }
        if (arch.equals("Gemma3ForConditionalGeneration") || n.has("vision_config") || n.has("text_config")) {
            String field = n.has("vision_config") || !n.has("text_config") ? "vision_config" : "text_config";
            throw new CheckpointInvalidException("unsupported architecture " + arch + ": " + field
                    + " (a vision tower, Gemma3ForConditionalGeneration) is not supported; the text model " + Gemma.GEMMA3
                    + " is (supported: " + SUPPORTED + ")");
        }
        if (!SUPPORTED.contains(arch)) {
            throw new CheckpointInvalidException("unsupported architecture " + arch + " (supported: " + SUPPORTED + ")");
        }
        boolean gemma = Gemma.is(arch);
        int hidden = required(n, "hidden_size");
        int heads = required(n, "num_attention_heads");
        int kvHeads = n.path("num_key_value_heads").asInt(heads);
        // Qwen3Config's head_dim defaults to 128 and Gemma2Config/Gemma3TextConfig's to 256, whatever hidden / heads is
        int headDim = n.path("head_dim").isInt() ? n.get("head_dim").asInt()
                : arch.equals(QWEN3) ? 128 : gemma ? GEMMA_DEFAULT_HEAD_DIM : hidden / heads;
        if (heads % kvHeads != 0) {
            throw new CheckpointInvalidException(FILE + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new CheckpointInvalidException(FILE + ": head dimension " + headDim + " must be even for rotary embeddings");
        }
        if (gemma) {
            // Gemma 2 and 3 build their MLP from hidden_activation alone; their configs' hidden_act is never read
            if (n.has("hidden_activation") && !n.get("hidden_activation").asText().equals(GELU_TANH)) {
                throw new CheckpointInvalidException(FILE + ": hidden_activation " + n.get("hidden_activation")
                        + " is not supported (only " + GELU_TANH + ")");
            }
            if (n.path("use_bidirectional_attention").asBoolean(false)) {
                throw new CheckpointInvalidException(FILE + ": use_bidirectional_attention true is not supported (causal only)");
            }
        } else if (n.has("hidden_act") && !n.get("hidden_act").asText().equals("silu")) {
            throw new CheckpointInvalidException(FILE + ": hidden_act " + n.get("hidden_act") + " is not supported (only silu)");
        }
        if (n.path("mlp_bias").asBoolean(false)) {
            throw new CheckpointInvalidException(FILE + ": mlp_bias true is not supported");
        }
        // transformers 5 writes rope_parameters (rope_type and rope_theta together) where 4.x wrote rope_scaling
        JsonNode rope = n.path("rope_scaling").isObject() ? n.get("rope_scaling") : n.path("rope_parameters");
        JsonNode localRope = null;
        if (rope.has(FULL) || rope.has(SLIDING)) {
            // transformers 5's Gemma 3: one rope_parameters entry per layer type
            if (!arch.equals(Gemma.GEMMA3) || !rope.path(FULL).isObject() || !rope.path(SLIDING).isObject()) {
                throw new CheckpointInvalidException(FILE + ": rope_parameters by layer type " + rope
                        + " is supported for " + Gemma.GEMMA3 + " only, with both " + FULL + " and " + SLIDING);
            }
            localRope = rope.get(SLIDING);
            rope = rope.get(FULL);
            if (!List.of("default", "").contains(localRope.path("rope_type").asText(localRope.path("type").asText("")))) {
                throw new CheckpointInvalidException(FILE + ": rope_parameters." + SLIDING + ".rope_type "
                        + localRope.path("rope_type") + " is not supported (sliding layers: default only)");
            }
        }
        boolean phi3 = arch.equals(PHI3);
        if (phi3) {
            rope = checkPhi3(n, rope);
        }
        double partialRotary = 1.0;
        for (JsonNode where : List.of(n, rope)) {
            if (where.has("partial_rotary_factor") && where.get("partial_rotary_factor").asDouble() != 1.0) {
                if (!phi3) {
                    throw new CheckpointInvalidException(FILE + ": partial_rotary_factor " + where.get("partial_rotary_factor")
                            + " is not supported for " + arch + " (only 1.0; other than 1 only for " + PHI3 + ")");
                }
                partialRotary = where.get("partial_rotary_factor").asDouble();
            }
        }
        double defaultTheta = arch.equals(Gemma.GEMMA3) ? GEMMA3_DEFAULT_THETA : 10000.0;
        int rotaryDim = (int) (headDim * partialRotary);
        if (!(partialRotary > 0 && partialRotary <= 1) || rotaryDim < 2 || rotaryDim % 2 != 0) {
            throw new CheckpointInvalidException(FILE + ": partial_rotary_factor " + partialRotary + " with head dimension "
                    + headDim + " gives " + rotaryDim + " rotary dimensions; it must be in (0, 1] and give an even number");
        }
        int defaultMax = arch.equals(Gemma.GEMMA2) ? 8192 : arch.equals(Gemma.GEMMA3) ? 131072 : phi3 ? 4096 : 2048;
        int maxPositions = n.path("max_position_embeddings").asInt(defaultMax);
        Integer topLevelOriginal = n.has("original_max_position_embeddings") ? Integer.valueOf(required(n, "original_max_position_embeddings"))
                : phi3 ? Integer.valueOf(PHI3_DEFAULT_ORIGINAL_MAX) : null;
        RopeScaling scaling = RopeScaling.parse(rope, maxPositions, topLevelOriginal, rotaryDim);
        double theta = n.path("rope_theta").isNumber() ? n.get("rope_theta").asDouble() : rope.path("rope_theta").asDouble(defaultTheta);
        int layers = required(n, "num_hidden_layers");
        boolean qwen2 = arch.equals("Qwen2ForCausalLM");
        Integer window = null;
        int fromLayer = 0;
        Gemma features = null;
        if (arch.equals("MistralForCausalLM")) {
            window = n.has("sliding_window") ? optionalPositive(n, "sliding_window") : Integer.valueOf(MISTRAL_DEFAULT_WINDOW);
        } else if (phi3) {
            // Phi3Config's sliding_window defaults to None; when set, every layer uses it (Phi-3-mini-4k: 2047)
            window = n.has("sliding_window") ? optionalPositive(n, "sliding_window") : null;
        } else if ((qwen2 || arch.equals(QWEN3)) && n.path("use_sliding_window").asBoolean(false)) {
            window = n.has("sliding_window") ? optionalPositive(n, "sliding_window") : Integer.valueOf(QWEN_DEFAULT_WINDOW);
            fromLayer = n.has("max_window_layers") ? nonNegative(n, "max_window_layers") : QWEN_DEFAULT_MAX_WINDOW_LAYERS;
        } else if (gemma) {
            window = n.has("sliding_window") ? required(n, "sliding_window") : GEMMA_DEFAULT_WINDOW;
            features = gemma(n, arch, layers, localRope);
        }
        if (!gemma) {
            checkLayerTypes(n.get("layer_types"), layers, window, fromLayer);
        }
        return new ModelConfig(arch, required(n, "vocab_size"), hidden, required(n, "intermediate_size"),
                layers, heads, kvHeads, headDim, n.path("rms_norm_eps").asDouble(1e-6),
                theta, n.path("tie_word_embeddings").asBoolean(gemma),
                qwen2 || n.path("attention_bias").asBoolean(false), maxPositions,
                n.path("bos_token_id").isInt() ? n.get("bos_token_id").asInt() : null,
                n.path("eos_token_id").isInt() ? n.get("eos_token_id").asInt() : null, scaling, window, fromLayer, partialRotary, features);
    }

    /**
     * What Phi3Config accepts that fedtune computes otherwise or not at all: rope types other than default and longrope
     * (Phi3Config reads su and yarn as longrope and refuses the rest), attention biases (Phi-3's projections have none)
     * and dropout in the base model (fedtune trains without it).
     *
     * @return the rope fields, with su and yarn renamed longrope
     */
    private static JsonNode checkPhi3(JsonNode n, JsonNode rope) throws CheckpointInvalidException {
        JsonNode typeNode = rope.has("rope_type") ? rope.get("rope_type") : rope.get("type");
        String type = typeNode == null || typeNode.isNull() ? "default" : typeNode.asText();
        if (List.of("su", "yarn").contains(type)) {
            ObjectNode renamed = ((ObjectNode) rope).deepCopy();
            renamed.remove("type");
            renamed.put("rope_type", "longrope");
            rope = renamed;
        } else if (!type.equals("default") && !type.equals("longrope")) {
            throw new CheckpointInvalidException(FILE + ": rope_scaling.rope_type " + type + " is not valid for " + PHI3
                    + " (Phi3Config takes default or longrope)");
        }
        if (n.path("attention_bias").asBoolean(false)) {
            throw new CheckpointInvalidException(FILE + ": attention_bias true is not supported for " + PHI3
                    + " (its qkv_proj has no bias)");
        }
        for (String dropout : List.of("resid_pdrop", "embd_pdrop")) {
            if (n.path(dropout).asDouble(0) != 0) {
                throw new CheckpointInvalidException(FILE + ": " + dropout + " " + n.get(dropout)
                        + " is not supported (fedtune trains the base model without dropout; only 0)");
            }
        }
        return rope;
    }

    /**
     * Gemma2Config's and Gemma3TextConfig's fields with their defaults: layer_types when listed, else Gemma 2 alternates
     * (sliding first) and Gemma 3 makes every sliding_window_pattern-th layer global.
     */
    private static Gemma gemma(JsonNode n, String arch, int layers, JsonNode localRope) throws CheckpointInvalidException {
        boolean two = arch.equals(Gemma.GEMMA2);
        List<Boolean> sliding;
        JsonNode types = n.get("layer_types");
        if (types != null && !types.isNull()) {
            if (!types.isArray() || types.size() != layers) {
                throw new CheckpointInvalidException(FILE + ": layer_types must list " + layers + " layers, got " + types);
            }
            sliding = new java.util.ArrayList<>();
            for (int i = 0; i < layers; i++) {
                String type = types.get(i).asText();
                if (!type.equals(FULL) && !type.equals(SLIDING)) {
                    throw new CheckpointInvalidException(FILE + ": layer_types[" + i + "] " + types.get(i)
                            + " is not supported (only " + FULL + ", " + SLIDING + ")");
                }
                sliding.add(type.equals(SLIDING));
            }
        } else {
            sliding = Gemma.pattern(layers, two ? 2 : n.has("sliding_window_pattern") ? required(n, "sliding_window_pattern")
                    : GEMMA3_DEFAULT_PATTERN);
        }
        Double local = null;
        if (!two) {
            local = localRope != null ? positiveNumber(localRope, "rope_theta", 10000.0)
                    : positiveNumber(n, "rope_local_base_freq", 10000.0);
        }
        return new Gemma(positiveNumber(n, "query_pre_attn_scalar", 256.0),
                softcap(n, "attn_logit_softcapping", two ? 50.0 : null),
                softcap(n, "final_logit_softcapping", two ? 30.0 : null), sliding, local);
    }

    /** Absent: the family's default; null: none. */
    private static Double softcap(JsonNode n, String field, Double absent) throws CheckpointInvalidException {
        if (!n.has(field)) {
            return absent;
        }
        return n.get(field).isNull() ? null : positiveNumber(n, field, 0);
    }

    private static double positiveNumber(JsonNode n, String field, double absent) throws CheckpointInvalidException {
        if (!n.has(field)) {
            return absent;
        }
        if (!n.get(field).isNumber() || n.get(field).asDouble() <= 0) {
            throw new CheckpointInvalidException(FILE + ": " + field + " must be a positive number, got " + n.get(field));
        }
        return n.get(field).asDouble();
    }

    /** transformers 5 may list each layer's attention; it must agree with the window fields, which fedtune reads. */
    private static void checkLayerTypes(JsonNode types, int layers, Integer window, int fromLayer)
            throws CheckpointInvalidException {
        if (types == null || types.isNull()) {
            return;
        }
        if (!types.isArray() || types.size() != layers) {
            throw new CheckpointInvalidException(FILE + ": layer_types must list " + layers + " layers, got " + types);
        }
        for (int i = 0; i < layers; i++) {
            String want = window != null && i >= fromLayer ? SLIDING : FULL;
            if (!types.get(i).asText().equals(want)) {
                throw new CheckpointInvalidException(FILE + ": layer_types[" + i + "] is " + types.get(i)
                        + " but sliding_window/use_sliding_window/max_window_layers imply " + want
                        + " (only those fields' pattern is supported)");
            }
        }
    }

    private static Integer optionalPositive(JsonNode n, String field) throws CheckpointInvalidException {
        return n.get(field).isNull() ? null : required(n, field);
    }

    private static int nonNegative(JsonNode n, String field) throws CheckpointInvalidException {
        if (!n.path(field).canConvertToInt() || n.path(field).asInt() < 0) {
            throw new CheckpointInvalidException(FILE + ": " + field + " must be a non-negative integer, got " + n.path(field));
        }
        return n.get(field).asInt();
    }

    private static int required(JsonNode n, String field) throws CheckpointInvalidException {
        if (!n.path(field).canConvertToInt() || n.path(field).asInt() <= 0) {
            throw new CheckpointInvalidException(FILE + ": " + field + " must be a positive integer, got " + n.path(field));
        }
        return n.get(field).asInt();
    }

    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(architecture);
        n.put("model_type", switch (architecture) {
            case "MistralForCausalLM" -> "mistral";
            case "Qwen2ForCausalLM" -> "qwen2";
            case QWEN3 -> "qwen3";
            case Gemma.GEMMA2 -> "gemma2";
            case Gemma.GEMMA3 -> "gemma3_text";
            case PHI3 -> "phi3";
            default -> "llama";
        });
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", layers);
        n.put("num_attention_heads", heads);
        n.put("num_key_value_heads", kvHeads);
        n.put("head_dim", headDim);
        if (gemma == null) {
            n.put("hidden_act", "silu");
        } else {
            n.put("hidden_activation", GELU_TANH);
        }
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("attention_bias", attentionBias);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        if (ropeScaling != null) {
            ropeScaling.write(n.putObject("rope_scaling"));
            if (architecture.equals(PHI3) && ropeScaling.originalMaxPositionEmbeddings() != null) {
                // Phi3Config's own field (default 4096) is the one transformers reads
                n.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        if (partialRotaryFactor != 1.0) {
            n.put("partial_rotary_factor", partialRotaryFactor);
        }
        switch (architecture) {
            case "MistralForCausalLM", PHI3 -> {
                if (slidingWindow == null) {
                    n.putNull("sliding_window");
                } else {
                    n.put("sliding_window", slidingWindow);
                }
            }
            case "Qwen2ForCausalLM", QWEN3 -> {
                n.put("use_sliding_window", slidingWindow != null);
                if (slidingWindow == null) {
                    n.putNull("sliding_window");
                } else {
                    n.put("sliding_window", slidingWindow);
                }
                n.put("max_window_layers", slidingWindow == null ? layers : windowFromLayer);
            }
            case Gemma.GEMMA2, Gemma.GEMMA3 -> writeGemma(n);
            default -> {
                if (slidingWindow != null) {
                    throw new IllegalStateException(architecture + " has no sliding window in Hugging Face's definition");
                }
            }
        }
        if (architecture.equals(PHI3) && vocabSize <= PHI3_DEFAULT_PAD) {
            // Phi3Config's pad_token_id defaults to 32000, outside a smaller vocabulary, where transformers refuses it
            n.putNull("pad_token_id");
        }
        if (bosTokenId != null) {
            n.put("bos_token_id", bosTokenId);
        }
        if (eosTokenId != null) {
            n.put("eos_token_id", eosTokenId);
        }
        n.put("torch_dtype", "float32");
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void writeGemma(ObjectNode n) {
        n.put("sliding_window", slidingWindow);
        var types = n.putArray("layer_types");
        gemma.slidingLayers().forEach(sliding -> types.add(sliding ? SLIDING : FULL));
        // Gemma2Config and Gemma3TextConfig declare it an int, and transformers 5 refuses 256.0
        double scalar = gemma.queryPreAttnScalar();
        if (scalar == Math.rint(scalar) && Math.abs(scalar) < Integer.MAX_VALUE) {
            n.put("query_pre_attn_scalar", (int) scalar);
        } else {
            n.put("query_pre_attn_scalar", scalar);
        }
        putNullable(n, "attn_logit_softcapping", gemma.attnLogitSoftcapping());
        putNullable(n, "final_logit_softcapping", gemma.finalLogitSoftcapping());
        if (gemma.ropeLocalBaseFreq() != null) {
            n.put("rope_local_base_freq", gemma.ropeLocalBaseFreq());
        }
    }

    private static void putNullable(ObjectNode n, String field, Double value) {
        if (value == null) {
            n.putNull(field);
        } else {
            n.put(field, value);
        }
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    @Override
    public int inFeatures(LoraTarget target) {
        return switch (module(target)) {
            case O_PROJ -> qDim();
            case DOWN_PROJ -> intermediateSize;
            default -> hiddenSize;
        };
    }

    /** qkv_proj's rows are q's, then k's, then v's; gate_up_proj's are gate's, then up's. */
    @Override
    public int outFeatures(LoraTarget target) {
        return switch (module(target)) {
            case Q_PROJ -> qDim();
            case K_PROJ, V_PROJ -> kvDim();
            case QKV_PROJ -> qDim() + 2 * kvDim();
            case GATE_PROJ, UP_PROJ -> intermediateSize;
            case GATE_UP_PROJ -> 2 * intermediateSize;
            case O_PROJ, DOWN_PROJ -> hiddenSize;
        };
    }

    private LoraTarget module(LoraTarget target) {
        if (!modules().contains(target)) {
            throw new IllegalArgumentException(architecture + " has no " + target.moduleName() + " (its modules: "
                    + LoraTarget.names(modules()) + ")");
        }
        return target;
    }

    /** Parameter count of the base model. */
    public long parameterCount() {
        long perLayer = 2L * hiddenSize;
        for (LoraTarget t : modules()) {
            perLayer += (long) inFeatures(t) * outFeatures(t);
        }
        if (attentionBias) {
            perLayer += qDim() + 2L * kvDim();
        }
        if (qkNorm()) {
            perLayer += 2L * headDim;
        }
        if (gemma != null) {
            perLayer += 2L * hiddenSize;
        }
        long embed = (long) vocabSize * hiddenSize;
        return perLayer * layers + hiddenSize + embed * (tieWordEmbeddings ? 1 : 2);
    }
}
