package io.fedtune.trainer.cli;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.TrainerEnv;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TerminationMessageTest {

    private static AggregateResult result(int sets, int refusals) {
        Map<String, Map<String, Double>> scores = new LinkedHashMap<>();
        Map<String, Double> losses = new LinkedHashMap<>();
        for (int i = 0; i < sets; i++) {
            String name = "eval-set-with-a-long-descriptive-name-" + i;
            scores.put(name, Map.of("Accuracy", 0.5 + i / 1000.0, "AccuracyNorm", 0.25, "Loss", 1.0 / (i + 1)));
            losses.put(name, 1.0 / (i + 1));
        }
        List<Refusal> refused = new ArrayList<>();
        for (int i = 0; i < refusals; i++) {
            refused.add(new Refusal("shard-" + i, "ChecksumMismatch", "x".repeat(300)));
        }
        return new AggregateResult(Outcome.Succeeded, null, "FedAvg: 1 updates accepted", 3, "s3://run/global", "ab".repeat(32),
                List.of("shard-a"), refused, 1.0, losses, false, null, null, 2.0, "cpu", "FP32", null, "cd".repeat(32),
                "Accuracy", 0.5, scores);
    }

    private static int bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8).length;
    }

    @Test
    void aResultThatFitsIsWrittenWhole() {
        AggregateResult r = result(3, 2);
        assertThat(ContractJson.read(TerminationMessage.of(r), AggregateResult.class)).isEqualTo(r);
    }

    @Test
    void tooManySetsLoseTheirScoresLastFirstAndTheRankingFigureStays() {
        AggregateResult r = result(40, 10);
        assertThat(bytes(ContractJson.write(r))).isGreaterThan(TrainerEnv.TERMINATION_MESSAGE_LIMIT);

        String json = TerminationMessage.of(r);

        assertThat(bytes(json)).isLessThanOrEqualTo(TrainerEnv.TERMINATION_MESSAGE_LIMIT);
        AggregateResult trimmed = ContractJson.read(json, AggregateResult.class);
        assertThat(trimmed.evalMetric()).isEqualTo("Accuracy");
        assertThat(trimmed.evalScore()).isEqualTo(0.5);
        assertThat(trimmed.evalScores()).isNotEmpty().hasSizeLessThan(40);
        List<String> kept = new ArrayList<>(trimmed.evalScores().keySet());
        assertThat(kept).as("a prefix of the sets, the primary first").isEqualTo(new ArrayList<>(r.evalScores().keySet())
                .subList(0, kept.size()));
        kept.forEach(s -> assertThat(trimmed.evalScores().get(s)).isEqualTo(r.evalScores().get(s)));
        assertThat(trimmed.refused()).extracting(Refusal::reason).containsOnly("ChecksumMismatch");
        // one more set would not have fitted
        Map<String, Map<String, Double>> oneMore = new LinkedHashMap<>(trimmed.evalScores());
        String next = new ArrayList<>(r.evalScores().keySet()).get(kept.size());
        oneMore.put(next, r.evalScores().get(next));
        AggregateResult bigger = new AggregateResult(trimmed.outcome(), trimmed.reason(), trimmed.message(), trimmed.round(),
                trimmed.adapter(), trimmed.sha256(), trimmed.accepted(), trimmed.refused(), trimmed.evalLoss(), trimmed.evalLosses(),
                trimmed.regressed(), trimmed.truncationEnergy(), trimmed.epsilon(), trimmed.seconds(), trimmed.device(),
                trimmed.precision(), trimmed.optimizerStateSha256(), trimmed.configSha256(), trimmed.evalMetric(),
                trimmed.evalScore(), oneMore);
        assertThat(bytes(ContractJson.write(bigger))).isGreaterThan(TrainerEnv.TERMINATION_MESSAGE_LIMIT);
    }

    @Test
    void whenNoSetsScoresFitTheRankingFigureStillDoes() {
        AggregateResult r = result(200, 0);

        AggregateResult trimmed = ContractJson.read(TerminationMessage.of(r), AggregateResult.class);

        assertThat(trimmed.evalMetric()).isEqualTo("Accuracy");
        assertThat(trimmed.evalScore()).isEqualTo(0.5);
        assertThat(trimmed.evalLoss()).isEqualTo(1.0);
        assertThat(trimmed.sha256()).isEqualTo(r.sha256());
    }
}
