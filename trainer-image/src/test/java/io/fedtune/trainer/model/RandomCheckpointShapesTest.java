package io.fedtune.trainer.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The benchmark shapes are the published models' (by their parameter counts) and survive config.json and truncation. */
class RandomCheckpointShapesTest {
    @Test
    void shapesCountThePublishedParameters() {
        assertThat(RandomCheckpoint.LLAMA_3_2_1B.parameterCount()).isEqualTo(1_235_814_400L);
        // Qwen3-0.6B's model card: 0.44B of its 0.6B outside the (tied) embedding
        assertThat(RandomCheckpoint.QWEN3_0_6B.parameterCount()).isEqualTo(596_049_920L);
        assertThat(RandomCheckpoint.GEMMA_3_1B.parameterCount()).isEqualTo(999_885_952L);
        assertThat(RandomCheckpoint.PHI_4_MINI.parameterCount()).isEqualTo(3_836_021_760L);
    }

    @Test
    void everyShapeReadsBackFromItsConfigJson() throws Exception {
        for (var e : RandomCheckpoint.SHAPES.entrySet()) {
            ModelConfig c = e.getValue();
            ModelConfig back = ModelConfig.parse(c.toJson());
            assertThat(back.parameterCount()).as(e.getKey()).isEqualTo(c.parameterCount());
            assertThat(back.architecture()).as(e.getKey()).isEqualTo(c.architecture());
            assertThat(back.gemma()).as(e.getKey()).isEqualTo(c.gemma());
            assertThat(back.rotaryDim()).as(e.getKey()).isEqualTo(c.rotaryDim());
        }
    }

    @Test
    void fewerLayersKeepEachLayersAttentionAndAnotherVocabularyKeepsTheTokenIdsInside() throws Exception {
        ModelConfig six = RandomCheckpoint.withLayers(RandomCheckpoint.GEMMA_3_1B, 6);
        assertThat(ModelConfig.parse(six.toJson()).gemma().slidingLayers()).isEqualTo(List.of(true, true, true, true, true, false));
        assertThat(six.parameterCount()).isEqualTo(RandomCheckpoint.GEMMA_3_1B.parameterCount() - 20L * 26_842_112L);
        ModelConfig small = RandomCheckpoint.withVocab(RandomCheckpoint.PHI_4_MINI, 131072);
        assertThat(small.bosTokenId()).isEqualTo(131071);
        assertThat(ModelConfig.parse(small.toJson()).vocabSize()).isEqualTo(131072);
        assertThatThrownBy(() -> RandomCheckpoint.withLayers(RandomCheckpoint.QWEN3_0_6B, 29))
                .hasMessageContaining("layers must be in [1, 28]");
    }
}
