package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.train.LoraParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

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
        RandomCheckpoint.write(dir, config, seed, 0.2);
        Checkpoint cp = Checkpoint.open(dir);
        AdapterConfig ac = new AdapterConfig(4, 8, 0.0, List.of(LoraTarget.values()), "tiny");
        LoraParameters lora = LoraParameters.initial(ac, config, 5);
        Random r = new Random(9);
        // B starts at zero; give it values so the adapter path is compared too
        lora.tensors().forEach((name, t) -> {
            if (!LoraParameters.isA(name)) {
                for (int i = 0; i < t.values().length; i++) {
                    t.values()[i] = (float) (r.nextGaussian() * 0.1);
                }
            }
        });
        int[][] sequences = {{1, 5, 9, 3, 40, 7, 7, 2, 11, 30}, {1, 50, 2, 2, 8, 0, 17, 33, 4, 12}};
        Map<String, FloatTensor> tensors = lora.tensors();
        try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32);
             NDManager m = model.manager().newSubManager()) {
            long[] ids = new long[20];
            for (int b = 0; b < 2; b++) {
                for (int t = 0; t < 10; t++) {
                    ids[b * 10 + t] = sequences[b][t];
                }
            }
            NDArray logits = model.logits(m.create(ids, new Shape(2, 10)), lora.arrays(m, false, false));
            assertThat(logits.getShape().getShape()).containsExactly(2, 10, config.vocabSize());
            float[] got = logits.toFloatArray();
            ReferenceForward ref = new ReferenceForward(cp, tensors, ac.scaling());
            double maxAbs = 0;
            for (int b = 0; b < 2; b++) {
                double[][] want = ref.logits(sequences[b]);
                for (int t = 0; t < 10; t++) {
                    for (int v = 0; v < config.vocabSize(); v++) {
                        maxAbs = Math.max(maxAbs, Math.abs(want[t][v]));
                        assertThat((double) got[(b * 10 + t) * config.vocabSize() + v])
                                .as("batch %d position %d token %d", b, t, v).isCloseTo(want[t][v], within(1e-4));
                    }
                }
            }
            assertThat(maxAbs).as("logits large enough for the comparison to mean something").isGreaterThan(0.5);
        }
    }

    @Test
    void refusesUnsupportedArchitecturesByName() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":10}");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("unsupported architecture GPT2LMHeadModel");
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
