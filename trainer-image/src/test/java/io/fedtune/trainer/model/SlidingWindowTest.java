package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LoraParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Sliding-window attention as Hugging Face defines it: a query at position i sees keys i - window + 1 .. i. Mistral
 * applies it on every layer; Qwen2 and Qwen3 only with use_sliding_window, on layers max_window_layers and later.
 */
class SlidingWindowTest {
    @TempDir
    Path dir;

    @Test
    void mistralWithAWindowShorterThanTheSequenceMatchesTheReference() throws IOException {
        // before the window was applied this compared full attention with the windowed reference, and failed
        double[][] windowed = ModelReference.compare(dir.resolve("window"), TinyModels.mistral(61).withSlidingWindow(4, 0), 41, 12);
        double[][] full = ModelReference.compare(dir.resolve("full"), TinyModels.mistral(61).withSlidingWindow(null, 0), 41, 12);
        assertThat(ModelReference.maxDifference(windowed, full)).as("the window changes the logits").isGreaterThan(1e-2);
    }

    @Test
    void mistralEvaluationLossWithAWindowEqualsTheReferenceLoss() throws IOException {
        ModelConfig config = TinyModels.mistral(61).withSlidingWindow(3, 0);
        RandomCheckpoint.write(dir, config, 42, 0.2);
        Checkpoint cp = Checkpoint.open(dir);
        LoraParameters lora = adapter(config);
        int[] tokens = {1, 5, 9, 3, 40, 7, 7, 2, 11, 30, 8, 19};
        boolean[] loss = new boolean[tokens.length];
        Arrays.fill(loss, 1, loss.length, true);
        double got;
        try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32)) {
            got = Evaluation.run(model, lora, List.of(new TokenSequence(tokens, loss)), 1).meanLoss();
        }
        double[][] logits = new ReferenceForward(cp, lora.tensors(), lora.config().scaling())
                .logits(Arrays.copyOf(tokens, tokens.length - 1));
        double want = 0;
        for (int t = 0; t + 1 < tokens.length; t++) {
            double max = Arrays.stream(logits[t]).max().orElseThrow();
            double z = Arrays.stream(logits[t]).map(v -> Math.exp(v - max)).sum();
            want += -(logits[t][tokens[t + 1]] - max - Math.log(z));
        }
        assertThat(got).isCloseTo(want / (tokens.length - 1), within(1e-4));
    }

    @Test
    void qwen2WindowsOnlyTheLayersFromMaxWindowLayers() throws IOException {
        ModelConfig upper = TinyModels.qwen2Tied(53).withSlidingWindow(3, 1);
        double[][] windowed = ModelReference.compare(dir.resolve("window"), upper, 43, 12);
        double[][] full = ModelReference.compare(dir.resolve("full"), TinyModels.qwen2Tied(53), 43, 12);
        assertThat(ModelReference.maxDifference(windowed, full)).isGreaterThan(1e-2);
        assertThat(upper.window(0)).isNull();
        assertThat(upper.window(1)).isEqualTo(3);
    }

    @Test
    void readsTheWindowFieldsAsHuggingFaceDefaultsThem() throws IOException {
        String mistral = TinyModels.mistral(61).toJson();
        assertThat(ModelConfig.parse(mistral).slidingWindow()).as("sliding_window: null").isNull();
        assertThat(ModelConfig.parse(mistral.replace("\"sliding_window\" : null,", "")).slidingWindow())
                .as("no sliding_window key: MistralConfig's default").isEqualTo(4096);
        assertThat(ModelConfig.parse(mistral.replace("\"sliding_window\" : null", "\"sliding_window\" : 5")).window(0)).isEqualTo(5);

        String qwen = TinyModels.qwen2Tied(53).toJson().replace("\"sliding_window\" : null", "\"sliding_window\" : 5");
        assertThat(ModelConfig.parse(qwen).slidingWindow()).as("use_sliding_window false").isNull();
        ModelConfig on = ModelConfig.parse(qwen.replace("\"use_sliding_window\" : false", "\"use_sliding_window\" : true")
                .replace("\"max_window_layers\" : 2", "\"max_window_layers\" : 1"));
        assertThat(on.window(0)).isNull();
        assertThat(on.window(1)).isEqualTo(5);
        assertThat(ModelConfig.parse(TinyModels.llama(40).toJson().replace("\"torch_dtype\"", "\"sliding_window\": 3, \"torch_dtype\""))
                .slidingWindow()).as("not a Llama field").isNull();
    }

    @Test
    void layerTypesMustAgreeWithTheWindowFields() throws IOException {
        String json = TinyModels.qwen2Tied(53).withSlidingWindow(3, 1).toJson();
        assertThat(ModelConfig.parse(json.replace("\"torch_dtype\"",
                "\"layer_types\": [\"full_attention\", \"sliding_attention\"], \"torch_dtype\"")).window(1)).isEqualTo(3);
        assertThatThrownBy(() -> ModelConfig.parse(json.replace("\"torch_dtype\"",
                "\"layer_types\": [\"sliding_attention\", \"sliding_attention\"], \"torch_dtype\"")))
                .isInstanceOf(CheckpointInvalidException.class).hasMessageContaining("layer_types[0]");
    }

    private static LoraParameters adapter(ModelConfig config) {
        LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, config.modules(), "w"), config, 5);
        Random r = new Random(9);
        lora.tensors().forEach((name, t) -> {
            if (!LoraParameters.isA(name)) {
                for (int i = 0; i < t.values().length; i++) {
                    t.values()[i] = (float) (r.nextGaussian() * 0.1);
                }
            }
        });
        return lora;
    }
}
