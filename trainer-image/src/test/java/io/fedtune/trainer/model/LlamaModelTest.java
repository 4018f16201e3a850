package io.fedtune.trainer.model;

import io.fedtune.trainer.safetensors.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LlamaModelTest {
    @TempDir
    Path dir;

    @Test
    void llamaLogitsMatchThePlainJavaForwardPass() throws IOException {
        compareWithReference(TinyModels.llama(61), 11);
    }

    @Test
    void qwen2WithBiasesAndTiedEmbeddingsMatchesThePlainJavaForwardPass() throws IOException {
        compareWithReference(TinyModels.qwen2Tied(53), 12);
    }

    @Test
    void mistralWithoutGroupedQueryAttentionMatchesThePlainJavaForwardPass() throws IOException {
        compareWithReference(new ModelConfig("MistralForCausalLM", 64, 32, 64, 1, 2, 2, 16, 1e-5, 1_000_000.0, false, false,
                128, 1, 2), 13);
    }

    private void compareWithReference(ModelConfig config, long seed) throws IOException {
        ModelReference.compare(dir, config, seed, 10);
    }

    @Test
    void refusesUnsupportedArchitecturesByName() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":10}");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("unsupported architecture GPT2LMHeadModel");
    }

    @Test
    void theLlama32OneBPresetHasTheParameterCountHuggingFaceReportsAndRoundTrips() throws IOException {
        ModelConfig c = RandomCheckpoint.LLAMA_3_2_1B;
        assertThat(c.parameterCount()).isEqualTo(1_235_814_400L);
        assertThat(ModelConfig.parse(c.toJson())).isEqualTo(c);
    }

    @Test
    void refusesFieldsThatWouldChangeTheComputationByName() {
        String json = TinyModels.llama(40).toJson();
        assertThatThrownBy(() -> ModelConfig.parse(json.replace("\"silu\"", "\"gelu\""))).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("hidden_act \"gelu\" is not supported");
        assertThatThrownBy(() -> ModelConfig.parse(json.replace("\"torch_dtype\"", "\"mlp_bias\": true, \"torch_dtype\"")))
                .hasMessageContaining("mlp_bias true is not supported");
        assertThatThrownBy(() -> ModelConfig.parse(json.replace("\"torch_dtype\"", "\"partial_rotary_factor\": 0.5, \"torch_dtype\"")))
                .hasMessageContaining("partial_rotary_factor 0.5 is not supported");
    }

    @Test
    void refusesMissingOrCorruptOrInconsistentCheckpoints() throws IOException {
        assertThatThrownBy(() -> Checkpoint.open(dir.resolve("nowhere"))).hasMessageContaining("does not exist");
        ModelConfig config = TinyModels.llama(40);
        RandomCheckpoint.write(dir, config, 1);
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("corrupt checkpoint weights model.safetensors");

        ModelConfig wider = new ModelConfig("LlamaForCausalLM", 40, 64, 48, 2, 4, 2, 16, 1e-5, 10000.0, false, false, 128, 1, 2);
        RandomCheckpoint.write(dir, config, 1);
        Files.writeString(dir.resolve("config.json"), wider.toJson());
        assertThatThrownBy(() -> Checkpoint.open(dir)).hasMessageContaining("model.embed_tokens.weight has shape [40, 32]");
    }

    @Test
    void readsShardedCheckpoints() throws IOException {
        ModelConfig config = TinyModels.llama(40);
        Path single = dir.resolve("single");
        RandomCheckpoint.write(single, config, 3);
        Path sharded = dir.resolve("sharded");
        Files.createDirectories(sharded);
        Files.copy(single.resolve("config.json"), sharded.resolve("config.json"));
        Map<String, FloatTensor> all;
        try (var r = io.fedtune.trainer.safetensors.SafetensorsReader.open(single.resolve("model.safetensors"))) {
            all = r.readAll();
        }
        Map<String, FloatTensor> first = new java.util.TreeMap<>();
        Map<String, FloatTensor> second = new java.util.TreeMap<>();
        StringBuilder index = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        all.forEach((name, t) -> {
            boolean one = name.contains("layers.0") || name.contains("embed");
            (one ? first : second).put(name, t);
            index.append('"').append(name).append("\":\"").append(one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors").append("\",");
        });
        index.setLength(index.length() - 1);
        index.append("}}");
        io.fedtune.trainer.safetensors.SafetensorsWriter.write(sharded.resolve("model-00001-of-00002.safetensors"), first, Map.of());
        io.fedtune.trainer.safetensors.SafetensorsWriter.write(sharded.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        Files.writeString(sharded.resolve("model.safetensors.index.json"), index);
        Checkpoint cp = Checkpoint.open(sharded);
        assertThat(cp.weightFiles()).hasSize(2);
        assertThat(cp.read("model.norm.weight")).isEqualTo(all.get("model.norm.weight"));
    }
}
