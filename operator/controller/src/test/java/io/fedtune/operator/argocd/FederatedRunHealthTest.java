package io.fedtune.operator.argocd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.operator.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The chart's FederatedRun health Lua on statuses built here: the best adapter's metric in the message. */
class FederatedRunHealthTest {

    private static Condition condition(String type, String status, String reason, String message) {
        return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message).build();
    }

    private static FederatedRun run(AdapterRef best, Condition... conditions) {
        FederatedRun run = Fixtures.run("h", "h", 3);
        run.getMetadata().setGeneration(1L);
        FederatedRunStatus status = new FederatedRunStatus();
        status.observedGeneration = 1L;
        status.bestAdapter = best;
        status.conditions = List.of(conditions);
        run.setStatus(status);
        return run;
    }

    private static AdapterRef best(String metric, double score, int round) {
        AdapterRef a = new AdapterRef("s3://b/r" + round, round, "sha", 2.0);
        a.evalMetric = metric;
        a.evalScore = score;
        return a;
    }

    @Test
    void progressingNamesTheBestAdaptersMetric() {
        ArgoHealth.Health h = ArgoHealth.of(run(best("RougeL", 0.41234, 3), condition("Ready", "True", "Running", ""),
                condition("Progressing", "True", "Training", "round 4: 1 of 2 shard(s) trained")));
        assertThat(h.status()).isEqualTo("Progressing");
        assertThat(h.message()).isEqualTo("Training: round 4: 1 of 2 shard(s) trained; best RougeL 0.4123 (round 3)");
    }

    @Test
    void healthyNamesIt() {
        ArgoHealth.Health h = ArgoHealth.of(run(best("Accuracy", 0.625, 2), condition("Succeeded", "True", "RoundsCompleted",
                "all 3 rounds completed; the best adapter is from round 2")));
        assertThat(h.status()).isEqualTo("Healthy");
        assertThat(h.message()).endsWith("; best Accuracy 0.625 (round 2)");
    }

    @Test
    void withoutAScoreOrWhenDegradedNothingIsAppended() {
        ArgoHealth.Health noBest = ArgoHealth.of(run(null, condition("Ready", "True", "Running", ""),
                condition("Progressing", "True", "Training", "round 1")));
        assertThat(noBest.message()).isEqualTo("Training: round 1");
        ArgoHealth.Health failed = ArgoHealth.of(run(best("Loss", 1.5, 1), condition("Failed", "True", "TooFewShards", "round 2")));
        assertThat(failed.status()).isEqualTo("Degraded");
        assertThat(failed.message()).isEqualTo("TooFewShards: round 2");
    }
}
