package io.fedtune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face checkpoint directory: config.json, model.safetensors or a sharded
 * model.safetensors.index.json, tokenizer.json. Weights are read one tensor at a time.
 */
public final class Checkpoint {
    public static final String WEIGHTS = io.fedtune.api.contract.ObjectLayout.MODEL_WEIGHTS;
    public static final String INDEX = "model.safetensors.index.json";
    public static final String TOKENIZER = "tokenizer.json";

    private final Path dir;
    private final ModelConfig config;
    private final Map<String, Path> fileOf;

    private Checkpoint(Path dir, ModelConfig config, Map<String, Path> fileOf) {
        this.dir = dir;
        this.config = config;
        this.fileOf = fileOf;
    }

    /** Opens the checkpoint and checks every tensor the architecture needs is present with the right shape. */
    public static Checkpoint open(Path dir) throws CheckpointInvalidException {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointInvalidException("checkpoint directory " + dir + " does not exist");
        }
        ModelConfig config = ModelConfig.read(dir);
        Map<String, Path> fileOf = new TreeMap<>();
        Map<String, TensorInfo> infos = new TreeMap<>();
        for (Path file : weightFiles(dir)) {
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                for (String name : r.names()) {
                    fileOf.put(name, file);
                    infos.put(name, r.info(name));
                }
            } catch (IOException e) {
                throw new CheckpointInvalidException("corrupt checkpoint weights " + file.getFileName() + ": " + e.getMessage(), e);
            }
        }
        for (Map.Entry<String, long[]> e : expectedShapes(config).entrySet()) {
            TensorInfo info = infos.get(e.getKey());
            if (info == null) {
                throw new CheckpointInvalidException("checkpoint lacks tensor " + e.getKey() + " that " + config.architecture()
                        + " with this config.json needs");
            }
            if (!Arrays.equals(info.shape(), e.getValue())) {
                throw new CheckpointInvalidException("tensor " + e.getKey() + " has shape " + Arrays.toString(info.shape())
                        + " but config.json implies " + Arrays.toString(e.getValue()));
            }
        }
        return new Checkpoint(dir, config, fileOf);
    }

    private static List<Path> weightFiles(Path dir) throws CheckpointInvalidException {
        Path single = dir.resolve(WEIGHTS);
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        Path index = dir.resolve(INDEX);
        if (!Files.isRegularFile(index)) {
            throw new CheckpointInvalidException("checkpoint has neither " + WEIGHTS + " nor " + INDEX + " in " + dir);
        }
        try {
            JsonNode map = new ObjectMapper().readTree(index.toFile()).path("weight_map");
            List<Path> files = new ArrayList<>();
            for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
                Path f = dir.resolve(it.next().asText()).normalize();
                if (!f.startsWith(dir.normalize())) {
                    throw new CheckpointInvalidException(INDEX + " points outside the checkpoint: " + f);
                }
                if (!files.contains(f)) {
                    files.add(f);
                }
            }
            if (files.isEmpty()) {
                throw new CheckpointInvalidException(INDEX + " has an empty weight_map");
            }
            files.sort(null);
            return files;
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + INDEX + ": " + e.getMessage(), e);
        }
    }

    /** Every tensor name the decoder reads, with its shape. */
    public static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[]{c.vocabSize(), c.hiddenSize()});
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[]{c.hiddenSize()});
            shapes.put(p + "post_attention_layernorm.weight", new long[]{c.hiddenSize()});
            if (c.gemma() != null) {
                shapes.put(p + "pre_feedforward_layernorm.weight", new long[]{c.hiddenSize()});
                shapes.put(p + "post_feedforward_layernorm.weight", new long[]{c.hiddenSize()});
            }
            for (LoraTarget t : c.modules()) {
                shapes.put(p + t.block() + "." + t.moduleName() + ".weight", new long[]{c.outFeatures(t), c.inFeatures(t)});
            }
            if (c.attentionBias()) {
                shapes.put(p + "self_attn.q_proj.bias", new long[]{c.qDim()});
                shapes.put(p + "self_attn.k_proj.bias", new long[]{c.kvDim()});
                shapes.put(p + "self_attn.v_proj.bias", new long[]{c.kvDim()});
            }
            if (c.qkNorm()) {
                shapes.put(p + "self_attn.q_norm.weight", new long[]{c.headDim()});
                shapes.put(p + "self_attn.k_norm.weight", new long[]{c.headDim()});
            }
        }
        shapes.put("model.norm.weight", new long[]{c.hiddenSize()});
        if (!c.tieWordEmbeddings()) {
            shapes.put("lm_head.weight", new long[]{c.vocabSize(), c.hiddenSize()});
        }
        return shapes;
    }

    public ModelConfig config() {
        return config;
    }

    public Path dir() {
        return dir;
    }

    public Path tokenizerFile() {
        return dir.resolve(TOKENIZER);
    }

    public List<Path> weightFiles() {
        return fileOf.values().stream().distinct().sorted().toList();
    }

    /** Rows firstRow .. firstRow + rows - 1 of a tensor whose shape is [rows, columns], row-major. */
    public float[] readRows(String name, long columns, long firstRow, int rows) throws CheckpointInvalidException {
        Path file = fileOf.get(name);
        if (file == null) {
            throw new CheckpointInvalidException("checkpoint lacks tensor " + name);
        }
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.readFloats(name, firstRow * columns, Math.toIntExact(rows * columns));
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read tensor " + name + " from " + file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    public FloatTensor read(String name) throws CheckpointInvalidException {
        Path file = fileOf.get(name);
        if (file == null) {
            throw new CheckpointInvalidException("checkpoint lacks tensor " + name);
        }
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.read(name);
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read tensor " + name + " from " + file.getFileName() + ": " + e.getMessage(), e);
        }
    }
}
