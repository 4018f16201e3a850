package io.fedtune.trainer.train;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.data.RealTokenizers;
import io.fedtune.trainer.data.Segment;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.model.RandomCheckpoint;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A random checkpoint with the real Llama 3 (128,256) and Qwen3 (151,936) vocabularies, hidden size 16, trains one
 * step and evaluates on text the real tokenizer encodes: the embedding table and head stay small.
 */
class RealVocabTrainingTest {
    static final int HIDDEN = 16;

    @TempDir
    Path dir;

    /** As the models' own config.json: Llama 3 unties the head, Qwen3 ties it; BOS/EOS are the ids their configs name. */
    static ModelConfig config(RealTokenizers real, Integer bos, Integer eos) {
        return real == RealTokenizers.LLAMA3
                ? new ModelConfig("LlamaForCausalLM", 128_256, HIDDEN, 32, 1, 2, 1, 8, 1e-5, 500_000.0, false, false, 256, bos, eos)
                // Qwen3 checkpoints name Qwen3ForCausalLM (with q/k norms); the trainer's Qwen2 decoder carries the vocabulary
                : new ModelConfig("Qwen2ForCausalLM", 151_936, HIDDEN, 32, 1, 2, 1, 8, 1e-6, 1_000_000.0, true, true, 256, bos, eos);
    }

    @ParameterizedTest
    @EnumSource(RealTokenizers.class)
    void aRealVocabularyTrainsOneStepAndEvaluatesWithAFiniteLoss(RealTokenizers real) throws Exception {
        JsonNode tokenizerConfig = new ObjectMapper().readTree(real.tokenizerConfig().toFile());
        Path base = dir.resolve("base");
        ModelConfig config;
        try (var probe = io.fedtune.trainer.data.TextTokenizer.load(real.tokenizerJson(), Integer.MAX_VALUE)) {
            config = config(real, single(probe, tokenizerConfig.path("bos_token")), single(probe, tokenizerConfig.path("eos_token")));
        }
        RandomCheckpoint.write(base, config, 5);
        Files.copy(real.tokenizerJson(), base.resolve(Checkpoint.TOKENIZER));

        List<List<Segment>> records = new ArrayList<>();
        for (String text : List.of("The river runs to the sea. 川の流れ 😀", "def f(x):\n    return x * 2  # doubled",
                "Numbers 1234567 and café, Ελληνικά.", "Prompt then completion: yes")) {
            records.add(List.of(new Segment(text, true)));
        }
        try (BaseModel model = BaseModel.open(base, new Placement(Device.cpu(), DataType.FLOAT32))) {
            List<TokenSequence> sequences = model.chunker(64).sequences(records);
            assertThat(sequences).hasSize(4);
            for (TokenSequence s : sequences) {
                if (config.bosTokenId() != null) {
                    assertThat(s.tokens()[0]).isEqualTo(config.bosTokenId());
                }
                assertThat(s.tokens()[s.length() - 1]).isEqualTo(config.eosTokenId());
            }
            LoraParameters params = LoraParameters.initial(
                    new AdapterConfig(4, 8, 0.0, config.modules(), "real-vocab"), config, 1);
            LocalTraining.Report report = new LocalTraining(model.model(), new TrainingOptions(1, 4, 1e-3, 0.0, 1.0, 0, false, 7))
                    .run(params, sequences);
            Evaluation.Result eval = Evaluation.run(model.model(), params, sequences, 4);

            assertThat(report.losses()).hasSize(1);
            assertThat(report.skippedSteps()).isZero();
            assertThat(report.losses().get(0)).isFinite();
            // random weights with std 0.02 predict close to uniform: about ln(vocab)
            assertThat(eval.meanLoss()).isFinite().isBetween(Math.log(config.vocabSize()) - 1, Math.log(config.vocabSize()) + 1);
            long tables = (config.tieWordEmbeddings() ? 1L : 2L) * config.vocabSize() * HIDDEN * Float.BYTES;
            System.out.printf("%s: vocab %d, hidden %d, embedding+head %.1f MiB (%s), train loss %.4f, eval loss %.4f (ln V = %.4f)%n",
                    real, config.vocabSize(), HIDDEN, tables / 1048576.0, config.tieWordEmbeddings() ? "tied" : "untied",
                    report.losses().get(0), eval.meanLoss(), Math.log(config.vocabSize()));
        }
    }

    private static Integer single(io.fedtune.trainer.data.TextTokenizer tokenizer, JsonNode token) {
        if (!token.isTextual()) {
            return null;
        }
        int[] ids = tokenizer.encode(token.asText());
        assertThat(ids).as(token.asText()).hasSize(1);
        return ids[0];
    }
}
