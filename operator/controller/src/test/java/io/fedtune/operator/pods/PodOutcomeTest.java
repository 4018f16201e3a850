package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.TrainResult;
import org.junit.jupiter.api.Test;

/** A finished pod's outcome from a fake pod status: exit code, the kubelet's reason, and the termination message cap. */
class PodOutcomeTest {

    private static Pod finished(String phase, int exitCode, String reason, String message) {
        return new PodBuilder().withNewMetadata().withName("p").withCreationTimestamp("2026-12-01T10:00:00Z").endMetadata()
                .withNewStatus().withPhase(phase).withContainerStatuses(new ContainerStatusBuilder().withName("trainer")
                        .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode).withReason(reason)
                                .withMessage(message).withFinishedAt("2026-12-01T10:01:00Z").endTerminated().build()).build())
                .endStatus().build();
    }

    @Test
    void anOomKilledContainerWithoutAMessageIsContainerFailedWithItsExitCodeAndReason() {
        PodOutcome o = PodOutcome.of(finished("Failed", 137, "OOMKilled", null));
        assertThat(o.state()).isEqualTo(PodOutcome.State.FAILED);
        assertThat(o.reason()).isEqualTo(FailureReason.ContainerFailed.name());
        assertThat(o.message()).isEqualTo("the container exited with code 137 (OOMKilled) without a termination message");
    }

    @Test
    void anErrorExitWithoutAMessageNamesCodeOneAndError() {
        assertThat(PodOutcome.of(finished("Failed", 1, "Error", "")).message())
                .isEqualTo("the container exited with code 1 (Error) without a termination message");
        assertThat(PodOutcome.of(finished("Failed", 2, null, null)).message())
                .isEqualTo("the container exited with code 2 without a termination message");
    }

    @Test
    void aMessageThatIsNotAContractResultIsContainerFailed() {
        PodOutcome o = PodOutcome.of(finished("Failed", 1, "Error", "Traceback (most recent call last):\n  boom"));
        assertThat(o.reason()).isEqualTo(FailureReason.ContainerFailed.name());
        assertThat(o.message()).startsWith("the container exited with code 1 (Error) with a termination message that is not a contract result");
        assertThat(PodOutcome.of(finished("Failed", 1, null, "{\"outcome\": \"Maybe\"")).reason()).isEqualTo("ContainerFailed");
    }

    @Test
    void aMessageOverTheCapIsContainerFailedNamingTheCapNeverAnException() {
        String big = "{\"outcome\":\"Failed\",\"reason\":\"StorageUnreachable\",\"message\":\"" + "x".repeat(5000) + "\"}";
        PodOutcome o = PodOutcome.of(finished("Failed", 1, "Error", big));
        assertThat(o.reason()).isEqualTo(FailureReason.ContainerFailed.name());
        assertThat(o.message()).isEqualTo("the container exited with code 1 (Error) and a termination message over the 4096-byte cap, which is not read");
        assertThat(o.resultJson()).isNull();
        // a log tail of a megabyte, multi-byte characters just over the cap in bytes though not in characters
        assertThat(PodOutcome.of(finished("Failed", 1, null, "log line\n".repeat(120_000))).message()).contains("4096-byte cap");
        assertThat(PodOutcome.of(finished("Succeeded", 0, "Completed", "é".repeat(2100))).reason()).isEqualTo("ContainerFailed");
    }

    @Test
    void aContractResultWithinTheCapIsRead() {
        String json = ContractJson.write(TrainResult.failed(FailureReason.StorageUnreachable, "no route"));
        PodOutcome o = PodOutcome.of(finished("Failed", 1, "Error", json));
        assertThat(o.reason()).isEqualTo("StorageUnreachable");
        assertThat(o.message()).isEqualTo("no route");
    }
}
