package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.AdapterMismatchException;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LocalTraining;
import io.fedtune.trainer.train.LoraParameters;
import io.fedtune.trainer.train.TrainingOptions;
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

/**
 * Phi-3 and Phi-4-mini (Phi3ForCausalLM): fused qkv_proj (query, key, value rows stacked) and gate_up_proj (gate rows,
 * then up rows), LoRA on the fused matrices as PEFT names them, partial_rotary_factor, sliding_window on every layer;
 * longrope.
 */
class Phi3ModelTest {
    /** Phi-3-mini-4k-instruct's config.json as published (transformers 4.x), at a tiny size. */
    private static final String PHI3_MINI_4K = """
            {"architectures": ["Phi3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 1, "embd_pdrop": 0.0, "eos_token_id": 32000, "hidden_act": "silu", "hidden_size": 32,
             "initializer_range": 0.02, "intermediate_size": 40, "max_position_embeddings": 4096, "model_type": "phi3",
             "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 4,
             "original_max_position_embeddings": 4096, "pad_token_id": 32000, "resid_pdrop": 0.0, "rms_norm_eps": 1e-05,
             "rope_scaling": null, "rope_theta": 10000.0, "sliding_window": 2047, "tie_word_embeddings": false,
             "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 32064}
            """;
    /** Phi-4-mini-instruct's fields that matter here, at a tiny size: partial rotary, tied, longrope. */
    private static final String PHI4_MINI = """
            {"architectures": ["Phi3ForCausalLM"], "hidden_size": 64, "intermediate_size": 48, "num_attention_heads": 4,
             "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 200064, "partial_rotary_factor": 0.75,
             "tie_word_embeddings": true, "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
             "rope_theta": 10000.0, "sliding_window": 262144, "hidden_act": "silu",
             "rope_scaling": {"type": "longrope", "long_factor": [1, 1, 1, 1, 1, 1], "short_factor": [1, 1, 1, 1, 1, 1]}}
            """;

    @TempDir
    Path dir;

    @Test
    void phi3WithFusedProjectionsMatchesTheReference() throws IOException {
        ModelConfig config = TinyModels.phi3(61);
        ModelReference.compare(dir, config, 71, 10);
        Map<String, long[]> shapes = Checkpoint.expectedShapes(config);
        assertThat(shapes.get("model.layers.0.self_attn.qkv_proj.weight")).as("4 query + 2 * 2 key/value heads of 8")
                .containsExactly(64, 32);
        assertThat(shapes.get("model.layers.1.mlp.gate_up_proj.weight")).containsExactly(80, 32);
        assertThat(shapes).doesNotContainKeys("model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.up_proj.weight");
        assertThat(config.modules()).containsExactly(LoraTarget.QKV_PROJ, LoraTarget.O_PROJ, LoraTarget.GATE_UP_PROJ,
                LoraTarget.DOWN_PROJ);
    }

    @Test
    void phi4MiniWithPartialRotaryTiedEmbeddingsAndASlidingWindowMatchesTheReference() throws IOException {
        ModelConfig config = TinyModels.phi4Mini(53).withSlidingWindow(4, 0);
        assertThat(config.rotaryDim()).isEqualTo(12);
        double[][] partial = ModelReference.compare(dir.resolve("partial"), config, 72, 10);
        double[][] full = ModelReference.compare(dir.resolve("full"), config.withPartialRotaryFactor(1.0), 72, 10);
        assertThat(ModelReference.maxDifference(partial, full)).as("the unrotated dimensions change the logits")
                .isGreaterThan(1e-2);
    }

    @Test
    void adapterGradientsOnTheFusedMatricesEqualTheReferenceLossSlopes() throws IOException {
        ModelConfig config = TinyModels.phi4Mini(53).withSlidingWindow(5, 0);
        RandomCheckpoint.write(dir, config, 73, 0.2);
        Checkpoint cp = Checkpoint.open(dir);
        LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, config.modules(), "phi"), config, 3);
        Random r = new Random(4);
        lora.tensors().values().forEach(t -> {
            for (int i = 0; i < t.values().length; i++) {
                t.values()[i] += (float) (r.nextGaussian() * 0.1);
            }
        });
        int[] tokens = {1, 5, 9, 3, 40, 7, 7, 2, 11, 30};
        Map<String, float[]> grads = new java.util.TreeMap<>();
        try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32);
             NDManager m = model.manager().newSubManager()) {
            LoraArrays arrays = lora.arrays(m, true, false);
            long[] in = new long[tokens.length - 1];
            long[] target = new long[tokens.length - 1];
            for (int t = 0; t + 1 < tokens.length; t++) {
                in[t] = tokens[t];
                target[t] = tokens[t + 1];
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.logits(m.create(in, new Shape(1, in.length)), arrays);
                NDArray picked = logits.logSoftmax(-1).gather(m.create(target, new Shape(1, in.length, 1)), 2);
                gc.backward(picked.mean().neg());
            }
            arrays.arrays().forEach((name, a) -> grads.put(name, a.getGradient().toFloatArray()));
        }
        int qd = config.qDim();
        int kvd = config.kvDim();
        int inter = config.intermediateSize();
        // rows of B in each part of the fused output: q, k, v; gate, up; and entries of A
        Object[][] probes = {
                {"base_model.model.model.layers.0.self_attn.qkv_proj.lora_B.weight", 3, 1},
                {"base_model.model.model.layers.0.self_attn.qkv_proj.lora_B.weight", qd + 5, 2},
                {"base_model.model.model.layers.1.self_attn.qkv_proj.lora_B.weight", qd + kvd + 7, 0},
                {"base_model.model.model.layers.1.self_attn.qkv_proj.lora_A.weight", 2, 9},
                {"base_model.model.model.layers.0.mlp.gate_up_proj.lora_B.weight", 4, 3},
                {"base_model.model.model.layers.1.mlp.gate_up_proj.lora_B.weight", inter + 6, 1},
                {"base_model.model.model.layers.0.mlp.gate_up_proj.lora_A.weight", 1, 20},
                {"base_model.model.model.layers.1.self_attn.o_proj.lora_A.weight", 0, 13},
                {"base_model.model.model.layers.0.mlp.down_proj.lora_B.weight", 17, 2}};
        for (Object[] probe : probes) {
            String name = (String) probe[0];
            FloatTensor t = lora.tensors().get(name);
            int index = (int) probe[1] * (int) t.shape()[1] + (int) probe[2];
            float kept = t.values()[index];
            float step = 1e-2f;
            t.values()[index] = kept + step;
            double up = referenceLoss(cp, lora, tokens);
            t.values()[index] = kept - step;
            double down = referenceLoss(cp, lora, tokens);
            t.values()[index] = kept;
            double slope = (up - down) / (2 * step);
            assertThat(Math.abs(slope)).as("%s[%s, %s] has a slope worth checking", name, probe[1], probe[2]).isGreaterThan(1e-4);
            assertThat((double) grads.get(name)[index]).as("%s[%s, %s]", name, probe[1], probe[2])
                    .isCloseTo(slope, within(2e-4 + 1e-2 * Math.abs(slope)));
        }
    }

    @Test
    void trainingStepsOnTheFusedModulesLowerTheLossAndTheTrainedAdapterScoresAsTheReferenceSays() throws IOException {
        ModelConfig config = TinyModels.phi3(40).withSlidingWindow(6, 0);
        RandomCheckpoint.write(dir.resolve("base"), config, 74, 0.1);
        Checkpoint cp = Checkpoint.open(dir.resolve("base"));
        List<TokenSequence> train = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int[] t = new int[10];
            boolean[] loss = new boolean[10];
            t[0] = 1;
            for (int j = 1; j < t.length; j++) {
                t[j] = 3 + (i + 2 * j) % 37;
                loss[j] = true;
            }
            train.add(new TokenSequence(t, loss));
        }
        LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, config.modules(), "phi"), config, 7);
        try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32)) {
            double before = Evaluation.run(model, lora, train, 8).meanLoss();
            LocalTraining.Report report = new LocalTraining(model, new TrainingOptions(30, 8, 2e-2, 0, 1, 0, false, 7))
                    .run(lora, train);
            double after = Evaluation.run(model, lora, train, 8).meanLoss();
            assertThat(report.losses()).hasSize(30);
            assertThat(after).isLessThan(before * 0.8);
            lora.toAdapter().write(dir.resolve("adapter"));
            LoraParameters reloaded = LoraParameters.from(Adapter.read(dir.resolve("adapter")), config);
            assertThat(Evaluation.run(model, reloaded, train.subList(0, 1), 1).meanLoss())
                    .isCloseTo(referenceLoss(cp, reloaded, train.get(0).tokens()), within(1e-4));
        }
    }

    /** Mean next-token loss of the reference forward pass. */
    private static double referenceLoss(Checkpoint cp, LoraParameters lora, int[] tokens) throws IOException {
        double[][] logits = new ReferenceForward(cp, lora.tensors(), lora.config().scaling())
                .logits(java.util.Arrays.copyOf(tokens, tokens.length - 1));
        double loss = 0;
        for (int t = 0; t + 1 < tokens.length; t++) {
            double max = java.util.Arrays.stream(logits[t]).max().orElseThrow();
            double z = java.util.Arrays.stream(logits[t]).map(v -> Math.exp(v - max)).sum();
            loss -= logits[t][tokens[t + 1]] - max - Math.log(z);
        }
        return loss / (tokens.length - 1);
    }

    @Test
    void anAdapterOnTheFusedModulesIsWrittenAndReadInThePeftLayout() throws IOException {
        ModelConfig config = TinyModels.phi3(40);
        LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, config.modules(), "phi"), config, 1);
        lora.toAdapter().write(dir);
        String json = Files.readString(dir.resolve(AdapterConfig.FILE));
        assertThat(json.replaceAll("\\s", "")).contains(
                "\"target_modules\":[\"o_proj\",\"down_proj\",\"qkv_proj\",\"gate_up_proj\"]");
        Adapter read = Adapter.read(dir);
        assertThat(read.tensors()).containsKeys("base_model.model.model.layers.0.self_attn.qkv_proj.lora_A.weight",
                "base_model.model.model.layers.1.mlp.gate_up_proj.lora_B.weight");
        assertThat(read.tensors().get("base_model.model.model.layers.0.self_attn.qkv_proj.lora_B.weight").shape())
                .containsExactly(64, 4);
        assertThat(read.tensors().get("base_model.model.model.layers.0.mlp.gate_up_proj.lora_A.weight").shape())
                .containsExactly(4, 32);
        LoraParameters.from(read, config);
        assertThatThrownBy(() -> LoraParameters.from(read, TinyModels.llama(40))).isInstanceOf(AdapterMismatchException.class)
                .hasMessageContaining("adapter targets qkv_proj, which the model does not have (its modules: "
                        + "[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj])");
    }

    @Test
    void targetsTheCheckpointDoesNotHaveFailNamingThemAndTheModulesItHas() throws IOException {
        assertThatThrownBy(() -> TinyModels.phi3(40).checkTargets(List.of(LoraTarget.O_PROJ, LoraTarget.Q_PROJ)))
                .isInstanceOf(CheckpointInvalidException.class)
                .hasMessage("LoRA target q_proj is not a module of Phi3ForCausalLM (its modules: "
                        + "[qkv_proj, o_proj, gate_up_proj, down_proj])");
        assertThatThrownBy(() -> TinyModels.llama(40).checkTargets(List.of(LoraTarget.GATE_UP_PROJ)))
                .isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("LoRA target gate_up_proj is not a module of LlamaForCausalLM");
        TinyModels.phi3(40).checkTargets(LoraTarget.FUSED);
        TinyModels.qwen3(40, false, false).checkTargets(LoraTarget.SEPARATE);
    }

    @Test
    void readsPhi3MiniAsPublishedWithItsSlidingWindowOnEveryLayer() throws IOException {
        ModelConfig c = ModelConfig.parse(PHI3_MINI_4K);
        assertThat(c.architecture()).isEqualTo(ModelConfig.PHI3);
        assertThat(c.ropeScaling()).isNull();
        assertThat(c.window(0)).isEqualTo(2047);
        assertThat(c.window(1)).isEqualTo(2047);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.rotaryDim()).isEqualTo(8);
        assertThat(c.eosTokenId()).isEqualTo(32000);
        assertThat(ModelConfig.parse(PHI3_MINI_4K.replace("\"sliding_window\": 2047,", "")).slidingWindow())
                .as("Phi3Config's default: none").isNull();
        ModelConfig tiny = TinyModels.phi4Mini(53).withSlidingWindow(7, 0);
        assertThat(ModelConfig.parse(tiny.toJson())).isEqualTo(tiny);
        assertThat(ModelConfig.parse(TinyModels.phi3(53).toJson())).isEqualTo(TinyModels.phi3(53));
    }

    @Test
    void readsPhi4MiniWithoutLongropeAndPartialRotaryWhereverTransformersWritesIt() throws IOException {
        String plain = PHI4_MINI.replaceAll("\"rope_scaling\": \\{[^}]*}", "\"rope_scaling\": null");
        ModelConfig c = ModelConfig.parse(plain);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.rotaryDim()).isEqualTo(12);
        assertThat(c.tieWordEmbeddings()).isTrue();
        String v5 = plain.replace("\"partial_rotary_factor\": 0.75,", "").replace("\"rope_scaling\": null",
                "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0, \"partial_rotary_factor\": 0.75}");
        assertThat(ModelConfig.parse(v5).rotaryDim()).as("transformers 5's rope_parameters").isEqualTo(12);
        assertThatThrownBy(() -> ModelConfig.parse(plain.replace("0.75", "0.1"))).isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("gives 1 rotary dimensions");
    }

    @Test
    void longropeMatchesTheReferenceWithTheShortFactorsUpToTheOriginalLengthAndTheLongOnesPastIt() throws IOException {
        // 10 positions: within original_max_position_embeddings 16 the short factors, past 6 the long ones
        ModelConfig within = TinyModels.phi3(61).withRopeScaling(longrope(16, 128 / 16.0));
        ModelConfig past = TinyModels.phi3(61).withRopeScaling(longrope(6, 128 / 6.0));
        double[][] shortFactors = ModelReference.compare(dir.resolve("short"), within, 73, 10);
        double[][] longFactors = ModelReference.compare(dir.resolve("long"), past, 73, 10);
        double[][] plain = ModelReference.compare(dir.resolve("plain"), TinyModels.phi3(61), 73, 10);
        assertThat(ModelReference.maxDifference(shortFactors, plain)).as("the short factors change the logits").isGreaterThan(1e-2);
        assertThat(ModelReference.maxDifference(longFactors, shortFactors)).as("past the original length: the long factors")
                .isGreaterThan(1e-2);
        ModelReference.compare(dir.resolve("partial"), TinyModels.phi4Mini(53).withRopeScaling(
                RopeScaling.longrope(32, 6, List.of(1.0, 1.5, 2.0, 3.0, 5.0, 8.0), List.of(2.0, 3.0, 5.0, 8.0, 13.0, 21.0), 1.1)), 74, 10);
    }

    @Test
    void longropePicksTheLongFactorsOnlyPastTheOriginalLengthAndScalesCosAndSinAsPhi3Does() {
        RopeScaling s = longrope(16, 8);
        assertThat(RopeScaling.inverseFrequencies(s, 1e4, 8, 128, 16)[3]).as("at the original length: short")
                .isEqualTo(RopeScaling.plain(1e4, 8)[3] / 1.9);
        assertThat(RopeScaling.inverseFrequencies(s, 1e4, 8, 128, 17)[3]).as("one past it: long")
                .isEqualTo(RopeScaling.plain(1e4, 8)[3] / 9.0);
        assertThat(RopeScaling.attentionFactor(s)).isCloseTo(Math.sqrt(1 + Math.log(8) / Math.log(16)), within(1e-12));
        assertThat(RopeScaling.attentionFactor(RopeScaling.longrope(1, 16, List.of(1.0), List.of(1.0), null))).isEqualTo(1.0);
        assertThat(RopeScaling.attentionFactor(RopeScaling.longrope(8, 16, List.of(1.0), List.of(1.0), 1.25))).isEqualTo(1.25);
    }

    @Test
    void readsPhi4MiniWithLongropeAndWhatPhi3ConfigReadsAsIt() throws IOException {
        ModelConfig c = ModelConfig.parse(PHI4_MINI);
        RopeScaling s = c.ropeScaling();
        assertThat(s.type()).isEqualTo("longrope");
        assertThat(s.originalMaxPositionEmbeddings()).isEqualTo(4096);
        assertThat(s.factor()).as("max_position_embeddings / original_max_position_embeddings").isEqualTo(32.0);
        assertThat(RopeScaling.attentionFactor(s)).isCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), within(1e-12));
        for (String legacy : List.of("su", "yarn")) {
            assertThat(ModelConfig.parse(PHI4_MINI.replace("\"longrope\"", "\"" + legacy + "\"")).ropeScaling()).isEqualTo(s);
        }
        assertThat(ModelConfig.parse(PHI4_MINI.replace("\"original_max_position_embeddings\": 4096,", ""))
                .ropeScaling().originalMaxPositionEmbeddings()).as("Phi3Config's default").isEqualTo(4096);
        assertThat(ModelConfig.parse(PHI4_MINI.replace("\"longrope\",", "\"longrope\", \"factor\": 4.0,")).ropeScaling().factor())
                .as("transformers 5 takes a given factor").isEqualTo(4.0);
        ModelConfig tiny = TinyModels.phi4Mini(53).withRopeScaling(RopeScaling.longrope(32, 6,
                List.of(1.0, 1.5, 2.0, 3.0, 5.0, 8.0), List.of(2.0, 3.0, 5.0, 8.0, 13.0, 21.0), null));
        assertThat(ModelConfig.parse(tiny.toJson())).isEqualTo(tiny);
    }

    @Test
    void refusesLongropeFactorListsPhi3ConfigWouldRefuseAndOtherRopeTypesByName() {
        assertThatThrownBy(() -> ModelConfig.parse(PHI4_MINI.replace("\"long_factor\": [1, 1, 1, 1, 1, 1]", "\"long_factor\": [1, 1, 1, 1]")))
                .isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("rope_scaling.long_factor has 4 entries")
                .hasMessageContaining("one per rotary pair, 6");
        assertThatThrownBy(() -> ModelConfig.parse(PHI4_MINI.replace("\"short_factor\": [1, 1, 1, 1, 1, 1]", "\"short_factor\": [1, 1, 1, 1, 1, 1, 1, 1]")))
                .hasMessageContaining("rope_scaling.short_factor has 8 entries");
        assertThatThrownBy(() -> ModelConfig.parse(PHI4_MINI.replace(", \"short_factor\": [1, 1, 1, 1, 1, 1]", "")))
                .hasMessageContaining("rope_scaling.short_factor is required for rope_type longrope");
        assertThatThrownBy(() -> ModelConfig.parse(PHI4_MINI.replace("\"long_factor\": [1, 1, 1, 1, 1, 1]", "\"long_factor\": [1, 1, 0, 1, 1, 1]")))
                .hasMessageContaining("rope_scaling.long_factor must hold positive numbers");
        assertThatThrownBy(() -> ModelConfig.parse(PHI4_MINI.replaceAll("\"rope_scaling\": \\{[^}]*}",
                "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2.0}")))
                .hasMessageContaining("rope_type linear is not valid for Phi3ForCausalLM");
        assertThatThrownBy(() -> ModelConfig.parse(PHI3_MINI_4K.replace("\"resid_pdrop\": 0.0", "\"resid_pdrop\": 0.1")))
                .hasMessageContaining("resid_pdrop 0.1 is not supported");
        assertThatThrownBy(() -> ModelConfig.parse(PHI3_MINI_4K.replace("\"attention_bias\": false", "\"attention_bias\": true")))
                .hasMessageContaining("attention_bias true is not supported for Phi3ForCausalLM");
        assertThatThrownBy(() -> ModelConfig.parse(TinyModels.llama(40).toJson()
                .replace("\"torch_dtype\"", "\"partial_rotary_factor\": 0.5, \"torch_dtype\"")))
                .hasMessageContaining("partial_rotary_factor 0.5 is not supported for LlamaForCausalLM");
    }

    /** Phi-3's layout (4 rotary pairs) with distinct short and long factors. */
    private static RopeScaling longrope(int originalMax, double factor) {
        return RopeScaling.longrope(factor, originalMax, List.of(1.0, 1.2, 1.5, 1.9), List.of(1.0, 2.5, 5.0, 9.0), null);
    }
}
