package io.fedtune.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.Fixtures;
import io.javaoperatorsdk.operator.OperatorException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What a reconcile that threw writes into status: the server's words, no secrets, and Ready back when it passes. */
class ReconcileErrorTest {

    @Test
    void aRefusedRequestSaysTheCodeAndTheServersMessage() {
        var refused = new KubernetesClientException(new StatusBuilder().withCode(403).withReason("Forbidden")
                .withMessage("pods \"r-r1-a-a1\" is forbidden: exceeded quota: gpu, requested: nvidia.com/gpu=1").build());
        assertThat(ReconcileError.message(refused)).isEqualTo("the API server refused a request (403 Forbidden): pods "
                + "\"r-r1-a-a1\" is forbidden: exceeded quota: gpu, requested: nvidia.com/gpu=1");
        assertThat(ReconcileError.isConflict(new OperatorException(new KubernetesClientException(new StatusBuilder().withCode(409)
                .build())))).isTrue();
        assertThat(ReconcileError.isConflict(new OperatorException(refused))).isFalse();
        // as JOSDK hands it over: wrapped
        assertThat(ReconcileError.message(new OperatorException(refused))).startsWith("the API server refused a request (403 Forbidden)");
        var internal = new IllegalStateException("aggregation pod x has no task");
        assertThat(ReconcileError.message(internal)).isEqualTo("IllegalStateException: aggregation pod x has no task");
        assertThat(ReconcileError.message(new OperatorException(internal))).isEqualTo("IllegalStateException: aggregation pod x has no task");
    }

    @Test
    void secretsNeverReachTheMessage() {
        String message = ReconcileError.message(new RuntimeException("GET https://s3.example/bucket/a?X-Amz-Credential=AKIA1234"
                + "&X-Amz-Signature=deadbeef failed; secretKey=hunter2, token: abc.def password=\"pw\""));
        assertThat(message).doesNotContain("AKIA1234", "deadbeef", "hunter2", "abc.def", "pw\"")
                .contains("https://s3.example/bucket/a?(redacted)", "secretKey=(redacted)");
        assertThat(ReconcileError.message(new RuntimeException("x".repeat(5000)))).hasSize(ReconcileError.LIMIT);
    }

    @Test
    void theErrorSetsReadyFalseAndTheNextGoodReconcileClearsIt() {
        FederatedRun run = Fixtures.run("err", "err", 2);
        run.getMetadata().setGeneration(3L);
        FederatedRunStatus status = new FederatedRunStatus();
        Instant now = Instant.parse("2026-12-01T10:00:00Z");
        RunStatusAggregator.apply(run, status, Situation.running(ConditionReason.Training, "round 1"), now);
        RunStatusAggregator.reconcileError(run, status, "the API server refused a request (403 Forbidden): no", now.plusSeconds(1));
        assertThat(status.phase).isEqualTo(Phase.Running);
        assertThat(Conditions.says(status.conditions, ConditionType.READY, ConditionReason.ReconcileError,
                "the API server refused a request (403 Forbidden): no")).isTrue();
        assertThat(Conditions.find(status.conditions, ConditionType.READY).orElseThrow().getStatus()).isEqualTo("False");
        assertThat(Conditions.isTrue(status.conditions, ConditionType.PROGRESSING)).isTrue();
        assertThat(status.observedGeneration).isEqualTo(3L);

        RunStatusAggregator.apply(run, status, Situation.running(ConditionReason.Training, "round 1"), now.plusSeconds(2));
        var ready = Conditions.find(status.conditions, ConditionType.READY).orElseThrow();
        assertThat(ready.getStatus()).isEqualTo("True");
        assertThat(ready.getReason()).isEqualTo("Running");
        assertThat(ready.getLastTransitionTime()).isEqualTo(now.plusSeconds(2).toString());
    }
}
