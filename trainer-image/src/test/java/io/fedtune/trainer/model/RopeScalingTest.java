package io.fedtune.trainer.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each rope_scaling type against the plain-Java forward pass, which reads config.json's rope_scaling itself. */
class RopeScalingTest {
    @TempDir
    Path dir;

    @Test
    void llama3ScalingMatchesTheReference() throws IOException {
        // head_dim 8, theta 1e4: wavelengths 6.3 (between 16/4 and 16/1: smoothed), 63, 628, 6283 (divided)
        changesTheLogits(TinyModels.llama(61), RopeScaling.llama3(8, 1, 4, 16), 31);
    }

    @Test
    void linearScalingMatchesTheReference() throws IOException {
        changesTheLogits(TinyModels.llama(61), RopeScaling.linear(4), 32);
    }

    @Test
    void dynamicScalingMatchesTheReferenceBeyondMaxPositionEmbeddingsAndIsPlainWithin() throws IOException {
        ModelConfig dynamic = withMaxPositions(TinyModels.llama(61), 6).withRopeScaling(RopeScaling.dynamic(3));
        changesTheLogits(withMaxPositions(TinyModels.llama(61), 6), RopeScaling.dynamic(3), 33);
        // up to max_position_embeddings the frequencies are plain RoPE's; past it, they depend on the length
        assertThat(RopeScaling.inverseFrequencies(dynamic.ropeScaling(), 1e4, 8, 6, 6))
                .containsExactly(RopeScaling.plain(1e4, 8));
        assertThat(RopeScaling.inverseFrequencies(dynamic.ropeScaling(), 1e4, 8, 6, 10)[1])
                .isLessThan(RopeScaling.inverseFrequencies(dynamic.ropeScaling(), 1e4, 8, 6, 7)[1]);
    }

    @Test
    void yarnAsQwen25UsesItMatchesTheReference() throws IOException {
        // the ramp over original 64 positions: dimension 0 extrapolated, 1 half, 2 and 3 interpolated
        changesTheLogits(TinyModels.qwen2Tied(53), RopeScaling.yarn(4, 64, null, null, null, null, null), 34);
    }

    @Test
    void yarnWithBetasAndMscaleRatioMatchesTheReference() throws IOException {
        changesTheLogits(TinyModels.llama(61), RopeScaling.yarn(8, 32, 16.0, 2.0, null, 0.7, 1.0), 35);
        assertThat(RopeScaling.attentionFactor(RopeScaling.yarn(8, 32, 16.0, 2.0, null, 0.7, 1.0)))
                .isCloseTo((0.07 * Math.log(8) + 1) / (0.1 * Math.log(8) + 1), org.assertj.core.api.Assertions.within(1e-12));
        assertThat(RopeScaling.attentionFactor(RopeScaling.yarn(8, 32, null, null, 1.3, null, null))).isEqualTo(1.3);
    }

    @Test
    void readsTheLegacyTypeKeyAndRopeParameters() throws IOException {
        ModelConfig want = TinyModels.llama(61).withRopeScaling(RopeScaling.llama3(8, 1, 4, 16));
        String json = want.toJson();
        assertThat(ModelConfig.parse(json.replace("\"rope_type\"", "\"type\""))).isEqualTo(want);
        assertThat(ModelConfig.parse(json.replace("\"rope_scaling\"", "\"rope_parameters\""))).isEqualTo(want);
        String defaultType = json.replaceAll("\"rope_scaling\" : \\{[^}]*}", "\"rope_scaling\" : {\"rope_type\": \"default\"}");
        assertThat(ModelConfig.parse(defaultType)).isEqualTo(TinyModels.llama(61));
    }

    @Test
    void refusesUnknownTypesAndMissingFieldsByName() {
        String base = TinyModels.llama(61).toJson();
        assertThatThrownBy(() -> ModelConfig.parse(withScaling(base, "{\"rope_type\":\"proportional\",\"factor\":2}")))
                .isInstanceOf(CheckpointInvalidException.class)
                .hasMessageContaining("rope_scaling.rope_type proportional is not supported")
                .hasMessageContaining("[linear, dynamic, llama3, yarn, longrope]");
        assertThatThrownBy(() -> ModelConfig.parse(withScaling(base, "{\"type\":\"su\",\"factor\":2}")))
                .hasMessageContaining("rope_scaling.rope_type su is not supported");
        assertThatThrownBy(() -> ModelConfig.parse(withScaling(base, "{\"factor\":2}")))
                .hasMessageContaining("rope_scaling.rope_type (or type) is missing");
        assertThatThrownBy(() -> ModelConfig.parse(withScaling(base, "{\"rope_type\":\"linear\"}")))
                .hasMessageContaining("rope_scaling.factor is required for rope_type linear");
        assertThatThrownBy(() -> ModelConfig.parse(withScaling(base, "{\"rope_type\":\"llama3\",\"factor\":8,"
                + "\"high_freq_factor\":4,\"original_max_position_embeddings\":8192}")))
                .hasMessageContaining("rope_scaling.low_freq_factor is required for rope_type llama3");
        assertThatThrownBy(() -> ModelConfig.parse(withScaling(base, "{\"rope_type\":\"yarn\",\"factor\":-1}")))
                .hasMessageContaining("rope_scaling.factor must be a positive number");
    }

    /** Matches the reference with the scaling, and the scaling makes a difference the comparison would see. */
    private void changesTheLogits(ModelConfig plain, RopeScaling scaling, long seed) throws IOException {
        double[][] scaled = ModelReference.compare(dir.resolve("scaled"), plain.withRopeScaling(scaling), seed, 10);
        double[][] unscaled = ModelReference.compare(dir.resolve("plain"), plain, seed, 10);
        assertThat(ModelReference.maxDifference(scaled, unscaled)).as("%s changes the logits", scaling.type()).isGreaterThan(1e-2);
    }

    private static String withScaling(String json, String scaling) {
        return json.replace("\"torch_dtype\"", "\"rope_scaling\": " + scaling + ", \"torch_dtype\"");
    }

    private static ModelConfig withMaxPositions(ModelConfig c, int max) {
        return new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.layers(), c.heads(),
                c.kvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.tieWordEmbeddings(), c.attentionBias(), max,
                c.bosTokenId(), c.eosTokenId());
    }
}
