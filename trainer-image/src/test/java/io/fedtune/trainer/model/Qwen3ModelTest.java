package io.fedtune.trainer.model;

import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Qwen3 dense: q_norm/k_norm per head before the rotary embedding, explicit head_dim, attention_bias per config. */
class Qwen3ModelTest {
    @TempDir
    Path dir;

    @Test
    void qwen3WithAHeadDimOtherThanHiddenOverHeadsMatchesTheReference() throws IOException {
        ModelConfig config = TinyModels.qwen3(61, false, false);
        assertThat(config.headDim()).isNotEqualTo(config.hiddenSize() / config.heads());
        ModelReference.compare(dir, config, 51, 10);
        assertThat(Checkpoint.expectedShapes(config)).containsKey("model.layers.1.self_attn.k_norm.weight")
                .doesNotContainKey("model.layers.0.self_attn.q_proj.bias");
        assertThat(Checkpoint.expectedShapes(config).get("model.layers.0.self_attn.q_norm.weight")).containsExactly(16);
    }

    @Test
    void qwen3TiedWithBiasesYarnAndASlidingWindowMatchesTheReference() throws IOException {
        ModelConfig config = TinyModels.qwen3(53, true, true)
                .withRopeScaling(RopeScaling.yarn(4, 64, null, null, null, null, null)).withSlidingWindow(4, 1);
        ModelReference.compare(dir, config, 52, 10);
    }

    @Test
    void readsQwen3FieldsAsHuggingFaceDefaultsThem() throws IOException {
        String json = TinyModels.qwen3(61, false, false).toJson();
        assertThat(ModelConfig.parse(json)).isEqualTo(TinyModels.qwen3(61, false, false));
        assertThat(ModelConfig.parse(json.replace("\"head_dim\" : 16,", "")).headDim()).as("Qwen3Config's default").isEqualTo(128);
        assertThat(ModelConfig.parse(json.replace("\"attention_bias\" : false,", "")).attentionBias()).isFalse();
    }

    @Test
    void refusesMixtureOfExpertsByName() {
        String json = TinyModels.qwen3(61, false, false).toJson();
        assertThatThrownBy(() -> ModelConfig.parse(json.replace(ModelConfig.QWEN3, "Qwen3MoeForCausalLM")))
                .isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("unsupported architecture Qwen3MoeForCausalLM: mixture of experts");
        assertThatThrownBy(() -> ModelConfig.parse(json.replace("\"torch_dtype\"", "\"num_experts\": 8, \"torch_dtype\"")))
                .hasMessageContaining("num_experts 8");
    }

    @Test
    void refusesACheckpointWithoutTheQueryNorms() throws IOException {
        ModelConfig config = TinyModels.qwen3(40, false, false);
        RandomCheckpoint.write(dir, config, 1);
        Map<String, FloatTensor> all;
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve(Checkpoint.WEIGHTS))) {
            all = new TreeMap<>(r.readAll());
        }
        all.remove("model.layers.1.self_attn.q_norm.weight");
        Files.delete(dir.resolve(Checkpoint.WEIGHTS));
        SafetensorsWriter.write(dir.resolve(Checkpoint.WEIGHTS), all, Map.of());
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("lacks tensor model.layers.1.self_attn.q_norm.weight");
    }
}
