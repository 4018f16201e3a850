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
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Gemma 2 and Gemma 3 (text) against the plain-Java reference, which reads Gemma's fields from config.json itself:
 * (1 + weight) norms, scaled embeddings, GeGLU, four norms per layer, query_pre_attn_scalar, soft-capping, interleaved
 * sliding layers, Gemma 3's q/k norms and local rope base.
 */
class GemmaModelTest {
    /** google/gemma-2-2b's config.json. */
    static final String GEMMA_2_2B = """
            {"architectures": ["Gemma2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1,
             "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
             "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 2304, "initializer_range": 0.02,
             "intermediate_size": 9216, "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 8,
             "num_hidden_layers": 26, "num_key_value_heads": 4, "pad_token_id": 0, "query_pre_attn_scalar": 256,
             "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096, "torch_dtype": "float32",
             "transformers_version": "4.42.4", "use_cache": true, "vocab_size": 256000}
            """;
    /** google/gemma-3-1b-it's config.json. */
    static final String GEMMA_3_1B = """
            {"architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "attn_logit_softcapping": null, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": [1, 106],
             "final_logit_softcapping": null, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
             "hidden_size": 1152, "initializer_range": 0.02, "intermediate_size": 6912, "max_position_embeddings": 32768,
             "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 26, "num_key_value_heads": 1,
             "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000,
             "rope_scaling": null, "rope_theta": 1000000, "sliding_window": 512, "sliding_window_pattern": 6,
             "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0", "use_cache": true, "vocab_size": 262144}
            """;

    @TempDir
    Path dir;

    @Test
    void gemma2WithSoftCapsAndASlidingFirstLayerMatchesTheReference() throws IOException {
        double[][] capped = ModelReference.compare(dir.resolve("capped"), TinyModels.gemma2(61, 1.0, 1.5), 71, 12);
        double[][] uncapped = ModelReference.compare(dir.resolve("uncapped"), TinyModels.gemma2(61, null, null), 71, 12);
        assertThat(ModelReference.maxDifference(capped, uncapped)).as("the caps change the logits").isGreaterThan(1e-2);
        ModelConfig config = TinyModels.gemma2(61, 1.0, 1.5);
        assertThat(config.window(0)).isEqualTo(4);
        assertThat(config.window(1)).isNull();
        assertThat(Checkpoint.expectedShapes(config)).containsKeys("model.layers.1.pre_feedforward_layernorm.weight",
                "model.layers.1.post_feedforward_layernorm.weight").doesNotContainKey("lm_head.weight")
                .doesNotContainKey("model.layers.0.self_attn.q_norm.weight");
    }

    @Test
    void gemma3WithQueryKeyNormsAndALocalRopeBaseMatchesTheReference() throws IOException {
        ModelReference.compare(dir.resolve("defaults"), TinyModels.gemma3(61, null, null), 72, 12);
        ModelReference.compare(dir.resolve("capped"), TinyModels.gemma3(53, 1.0, 1.5), 73, 12);
        ModelConfig config = TinyModels.gemma3(61, null, null);
        assertThat(config.window(1)).isEqualTo(4);
        assertThat(config.window(2)).isNull();
        assertThat(Checkpoint.expectedShapes(config).get("model.layers.2.self_attn.k_norm.weight")).containsExactly(16);
    }

    /** Where a GPU is usable: this image's CPU libtorch aborts the JVM on bfloat16 forward passes, Llama's too. */
    @Test
    void bfloat16GemmaOnAGpuStaysNearTheFloat32Logits() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(GpuCheck.run().problem().isEmpty(), "no usable GPU");
        for (ModelConfig config : new ModelConfig[]{TinyModels.gemma2(61, 1.0, 1.5), TinyModels.gemma3(61, null, null)}) {
            Path at = dir.resolve(config.architecture());
            RandomCheckpoint.write(at, config, 75, 0.2);
            Checkpoint cp = Checkpoint.open(at);
            float[][] logits = new float[2][];
            DataType[] types = {DataType.FLOAT32, DataType.BFLOAT16};
            for (int k = 0; k < 2; k++) {
                try (LlamaModel model = LlamaModel.load(cp, Device.gpu(), types[k]);
                     ai.djl.ndarray.NDManager m = model.manager().newSubManager()) {
                    long[] ids = {2, 5, 9, 3, 40, 7, 7, 2, 11, 30};
                    logits[k] = model.logits(m.create(ids, new ai.djl.ndarray.types.Shape(1, ids.length)), null).toFloatArray();
                }
            }
            double max = 0;
            for (int i = 0; i < logits[0].length; i++) {
                assertThat(logits[1][i]).as("%s finite", config.architecture()).isFinite();
                max = Math.max(max, Math.abs(logits[0][i] - logits[1][i]));
            }
            assertThat(max).as(config.architecture()).isLessThan(0.15);
        }
    }

    @Test
    void gemma2EvaluationLossEqualsTheReferenceLoss() throws IOException {
        ModelConfig config = TinyModels.gemma2(61, 1.0, 1.5);
        RandomCheckpoint.write(dir, config, 74, 0.2);
        Checkpoint cp = Checkpoint.open(dir);
        LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, config.modules(), "w"), config, 5);
        Random r = new Random(9);
        lora.tensors().forEach((name, t) -> {
            if (!LoraParameters.isA(name)) {
                for (int i = 0; i < t.values().length; i++) {
                    t.values()[i] = (float) (r.nextGaussian() * 0.1);
                }
            }
        });
        int[] tokens = {2, 5, 9, 3, 40, 7, 7, 2, 11, 30, 8, 19};
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
    void readsPublishedGemmaConfigsWithHuggingFaceDefaults() throws IOException {
        ModelConfig two = ModelConfig.parse(GEMMA_2_2B);
        assertThat(two.parameterCount()).as("HF's count for gemma-2-2b").isEqualTo(2_614_341_888L);
        assertThat(two.tieWordEmbeddings()).as("Gemma2Config's default").isTrue();
        assertThat(two.gemma()).isEqualTo(new Gemma(256, 50.0, 30.0, Gemma.pattern(26, 2), null));
        assertThat(two.window(0)).isEqualTo(4096);
        assertThat(two.window(1)).isNull();
        assertThat(ModelConfig.parse(two.toJson())).isEqualTo(two);

        ModelConfig three = ModelConfig.parse(GEMMA_3_1B);
        assertThat(three.parameterCount()).as("HF's count for gemma-3-1b").isEqualTo(999_885_952L);
        assertThat(three.gemma()).isEqualTo(new Gemma(256, null, null, Gemma.pattern(26, 6), 10000.0));
        assertThat(three.window(4)).isEqualTo(512);
        assertThat(three.window(5)).as("every sixth layer is global").isNull();
        assertThat(three.ropeTheta()).isEqualTo(1e6);
        assertThat(ModelConfig.parse(three.toJson())).isEqualTo(three);

        String bare = GEMMA_2_2B.replace("\"attn_logit_softcapping\": 50.0,", "").replace("\"final_logit_softcapping\": 30.0,", "")
                .replace("\"head_dim\": 256,", "").replace("\"sliding_window\": 4096,", "");
        assertThat(ModelConfig.parse(bare)).as("Gemma2Config's defaults").isEqualTo(two);
        ModelConfig noPattern = ModelConfig.parse(GEMMA_3_1B.replace("\"sliding_window_pattern\": 6,", "")
                .replace("\"rope_theta\": 1000000,", "").replace("\"rope_local_base_freq\": 10000,", ""));
        assertThat(noPattern).as("Gemma3TextConfig's defaults").isEqualTo(three);
    }

    @Test
    void aGemmaConfigBuiltWithoutItsFieldsTakesHuggingFaceDefaults() throws IOException {
        ModelConfig plain = new ModelConfig(Gemma.GEMMA3, 61, 32, 40, 7, 4, 2, 16, 1e-6, 1e6, true, false, 128, 2, 1);
        assertThat(plain.gemma()).isEqualTo(new Gemma(256, null, null, Gemma.pattern(7, 6), 10000.0));
        assertThat(plain.window(0)).isEqualTo(4096);
        assertThat(plain.window(5)).isNull();
        assertThat(ModelConfig.parse(plain.toJson())).isEqualTo(plain);
        assertThatThrownBy(() -> TinyModels.llama(61).withGemma(Gemma.defaults(Gemma.GEMMA2, 2), 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("LlamaForCausalLM has no Gemma fields");
    }

    @Test
    void readsLayerTypesAndPerLayerTypeRopeParameters() throws IOException {
        String types = "[\"sliding_attention\", \"full_attention\", \"full_attention\"]";
        String json = TinyModels.gemma3(61, null, null).toJson();
        int start = json.indexOf("\"layer_types\"");
        int end = json.indexOf(']', start) + 1;
        ModelConfig listed = ModelConfig.parse(json.substring(0, start) + "\"layer_types\": " + types + json.substring(end));
        assertThat(listed.window(0)).isEqualTo(4);
        assertThat(listed.window(1)).isNull();

        // transformers 5: rope_parameters per layer type in place of rope_theta, rope_scaling and rope_local_base_freq
        String v5 = json.replace("\"rope_theta\" : 1000000.0,", "").replace("\"rope_local_base_freq\" : 10000.0", "\"x\": 0")
                .replaceFirst("\"rope_scaling\" : \\{[^}]*}", "\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"linear\","
                        + " \"factor\": 8.0, \"rope_theta\": 1000000.0}, \"sliding_attention\": {\"rope_type\": \"default\","
                        + " \"rope_theta\": 10000.0}}");
        assertThat(v5).doesNotContain("rope_scaling");
        assertThat(ModelConfig.parse(v5)).isEqualTo(TinyModels.gemma3(61, null, null));
        assertThatThrownBy(() -> ModelConfig.parse(v5.replace("\"default\"", "\"linear\", \"factor\": 2")))
                .isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("rope_parameters.sliding_attention.rope_type \"linear\" is not supported");
    }

    @Test
    void refusesVisionTowersAndUnimplementedFieldsByName() {
        String vision = "{\"architectures\": [\"Gemma3ForConditionalGeneration\"], \"text_config\": {\"hidden_size\": 2560},"
                + " \"vision_config\": {\"hidden_size\": 1152}}";
        assertThatThrownBy(() -> ModelConfig.parse(vision)).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("Gemma3ForConditionalGeneration: vision_config").hasMessageContaining("not supported");
        assertThatThrownBy(() -> ModelConfig.parse(GEMMA_3_1B.replace("\"use_cache\"", "\"vision_config\": {}, \"use_cache\"")))
                .hasMessageContaining("vision_config");
        assertThatThrownBy(() -> ModelConfig.parse(GEMMA_2_2B.replace("\"hidden_activation\": \"gelu_pytorch_tanh\"",
                "\"hidden_activation\": \"gelu\""))).hasMessageContaining("hidden_activation \"gelu\" is not supported");
        assertThatThrownBy(() -> ModelConfig.parse(GEMMA_3_1B.replace("\"use_cache\"", "\"use_bidirectional_attention\": true, \"use_cache\"")))
                .hasMessageContaining("use_bidirectional_attention true is not supported");
        assertThatThrownBy(() -> ModelConfig.parse(GEMMA_3_1B.replace("\"use_cache\"", "\"layer_types\": [\"full_attention\"], \"use_cache\"")))
                .hasMessageContaining("layer_types must list 26 layers");
        assertThatThrownBy(() -> ModelConfig.parse(GEMMA_2_2B.replace("\"use_cache\"",
                "\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\"}}, \"use_cache\"")))
                .hasMessageContaining("rope_parameters by layer type");
        assertThatThrownBy(() -> ModelConfig.parse(GEMMA_2_2B.replace("\"final_logit_softcapping\": 30.0", "\"final_logit_softcapping\": 0")))
                .hasMessageContaining("final_logit_softcapping must be a positive number");
    }
}
