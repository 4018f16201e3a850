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

/** The subset of a Hugging Face {@code config.json} that defines a Llama-family decoder. */
public record ModelConfig(String architecture, int vocabSize, int hiddenSize, int intermediateSize, int layers,
                          int heads, int kvHeads, int headDim, double rmsNormEps, double ropeTheta,
                          boolean tieWordEmbeddings, boolean attentionBias, int maxPositionEmbeddings,
                          Integer bosTokenId, Integer eosTokenId) implements AdapterShape {
    public static final String FILE = "config.json";
    public static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");
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
        if (!SUPPORTED.contains(arch)) {
            throw new CheckpointInvalidException("unsupported architecture " + arch + " (supported: " + SUPPORTED + ")");
        }
        int hidden = required(n, "hidden_size");
        int heads = required(n, "num_attention_heads");
        int kvHeads = n.path("num_key_value_heads").asInt(heads);
        int headDim = n.path("head_dim").isInt() ? n.get("head_dim").asInt() : hidden / heads;
        if (heads % kvHeads != 0) {
            throw new CheckpointInvalidException(FILE + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new CheckpointInvalidException(FILE + ": head dimension " + headDim + " must be even for rotary embeddings");
        }
        if (n.path("rope_scaling").isObject()) {
            throw new CheckpointInvalidException(FILE + ": rope_scaling is not supported");
        }
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        return new ModelConfig(arch, required(n, "vocab_size"), hidden, required(n, "intermediate_size"),
                required(n, "num_hidden_layers"), heads, kvHeads, headDim, n.path("rms_norm_eps").asDouble(1e-6),
                n.path("rope_theta").asDouble(10000.0), n.path("tie_word_embeddings").asBoolean(false),
                qwen || n.path("attention_bias").asBoolean(false), n.path("max_position_embeddings").asInt(2048),
                n.path("bos_token_id").isInt() ? n.get("bos_token_id").asInt() : null,
                n.path("eos_token_id").isInt() ? n.get("eos_token_id").asInt() : null);
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
            default -> "llama";
        });
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", layers);
        n.put("num_attention_heads", heads);
        n.put("num_key_value_heads", kvHeads);
        n.put("head_dim", headDim);
        n.put("hidden_act", "silu");
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("attention_bias", attentionBias);
        n.put("max_position_embeddings", maxPositionEmbeddings);
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

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    @Override
    public int inFeatures(LoraTarget target) {
        return switch (target) {
            case O_PROJ -> qDim();
            case DOWN_PROJ -> intermediateSize;
            default -> hiddenSize;
        };
    }

    @Override
    public int outFeatures(LoraTarget target) {
        return switch (target) {
            case Q_PROJ -> qDim();
            case K_PROJ, V_PROJ -> kvDim();
            case GATE_PROJ, UP_PROJ -> intermediateSize;
            case O_PROJ, DOWN_PROJ -> hiddenSize;
        };
    }

    /** Parameter count of the base model. */
    public long parameterCount() {
        long perLayer = 2L * hiddenSize;
        for (LoraTarget t : LoraTarget.values()) {
            perLayer += (long) inFeatures(t) * outFeatures(t);
        }
        if (attentionBias) {
            perLayer += qDim() + 2L * kvDim();
        }
        long embed = (long) vocabSize * hiddenSize;
        return perLayer * layers + hiddenSize + embed * (tieWordEmbeddings ? 1 : 2);
    }
}
