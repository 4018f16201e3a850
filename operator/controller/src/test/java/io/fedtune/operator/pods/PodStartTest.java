package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A pod that did not start, judged from the pod alone. */
class PodStartTest {
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final PodStart START = new PodStart(Duration.ofMinutes(10), "10m");

    private static Pod pod(String phase, Instant startTime, String waitingReason) {
        return new PodBuilder().withNewMetadata().withName("p").withCreationTimestamp(T0.toString()).endMetadata()
                .withNewStatus().withPhase(phase).withStartTime(startTime == null ? null : startTime.toString())
                .addNewContainerStatus().withName("c").withNewState().withNewWaiting().withReason(waitingReason)
                .withMessage("m").endWaiting().endState().endContainerStatus().endStatus().build();
    }

    @Test
    void theGraceCountsFromWhenTheKubeletTookThePod() {
        Pod pod = pod("Pending", T0.plus(Duration.ofMinutes(2)), "ImagePullBackOff");
        assertThat(START.stuck(pod, T0.plus(Duration.ofSeconds(179)))).isEmpty();
        assertThat(START.recheckAt(pod)).contains(T0.plus(Duration.ofMinutes(3)));
        assertThat(START.stuck(pod, T0.plus(Duration.ofMinutes(3)))).hasValueSatisfying(o -> {
            assertThat(o.reason()).isEqualTo("ImagePullFailed");
            assertThat(o.finishedAt()).isEqualTo(T0.plus(Duration.ofMinutes(3)));
            assertThat(o.message()).isEqualTo("the container cannot start: ImagePullBackOff: m");
        });
    }

    @Test
    void theKubeletsReasonWinsOverTheDeadlineWhenTheGraceEndsAfterIt() {
        Pod pod = pod("Pending", T0.plus(Duration.ofSeconds(590)), "InvalidImageName");
        assertThat(START.stuck(pod, T0.plus(Duration.ofMinutes(10)))).hasValueSatisfying(o -> {
            assertThat(o.reason()).isEqualTo("ImageInvalid");
            assertThat(o.finishedAt()).isEqualTo(T0.plus(Duration.ofMinutes(10)));
        });
    }

    @Test
    void aStartedPodIsNeverStuck() {
        Pod running = pod("Running", T0, "ImagePullBackOff");
        assertThat(START.stuck(running, T0.plus(Duration.ofHours(1)))).isEmpty();
        assertThat(START.recheckAt(running)).isEmpty();
        Pod creating = pod("Pending", T0, "ContainerCreating");
        assertThat(START.stuck(creating, T0.plus(Duration.ofMinutes(9)))).isEmpty();
        assertThat(START.stuck(creating, T0.plus(Duration.ofMinutes(10)))).hasValueSatisfying(o -> assertThat(o.reason()).isEqualTo("StartTimeout"));
    }

    @Test
    void longMessagesAreCut() {
        Pod pod = pod("Pending", T0, "ErrImagePull");
        pod.getStatus().getContainerStatuses().get(0).getState().getWaiting().setMessage("x".repeat(5000));
        assertThat(START.stuck(pod, T0.plus(Duration.ofMinutes(1))).orElseThrow().message()).hasSize(300).endsWith("...");
    }
}
