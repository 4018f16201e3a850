package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fedtune.api.contract.FailureReason;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether a pod that has not started is stuck, judged from the pod alone so that a restarted operator judges the same:
 * a container the kubelet cannot start (a waiting reason in {@link #CANNOT_START}) a {@link #GRACE} after the kubelet
 * took the pod (ErrImagePull and ImagePullBackOff alternate while the kubelet retries, and a registry hiccup clears
 * within its first backoffs), or Pending past spec.participation.startTimeout for any reason (unschedulable: an
 * autoscaler gets that long to add a node). A stuck pod counts as a failed attempt at the moment it became stuck.
 */
public record PodStart(Duration startTimeout, String written) {
    public static final Duration GRACE = Duration.ofMinutes(1);
    /** The kubelet's waiting reasons that do not clear by waiting, and the failure each one is. */
    public static final Map<String, FailureReason> CANNOT_START = Map.of(
            "ErrImagePull", FailureReason.ImagePullFailed,
            "ImagePullBackOff", FailureReason.ImagePullFailed,
            "ErrImageNeverPull", FailureReason.ImagePullFailed,
            "InvalidImageName", FailureReason.ImageInvalid,
            "CreateContainerConfigError", FailureReason.ContainerConfigInvalid);
    private static final int MESSAGE_LIMIT = 300;

    /** The failure of a pod that did not start, as of {@code now}; empty while it may still start, or once it has. */
    public Optional<PodOutcome> stuck(Pod pod, Instant now) {
        Instant created = created(pod);
        if (!pending(pod) || created == null) {
            return Optional.empty();
        }
        Optional<ContainerStateWaiting> waiting = waiting(pod);
        Optional<ContainerStateWaiting> cannotStart = waiting.filter(w -> CANNOT_START.containsKey(w.getReason()));
        Instant deadline = created.plus(startTimeout);
        if (cannotStart.isPresent()) {
            // the kubelet's own reason says more than the deadline, whichever comes first
            Instant grace = graceEnds(pod, created);
            Instant at = grace.isBefore(deadline) ? grace : deadline;
            if (!now.isBefore(at)) {
                ContainerStateWaiting w = cannotStart.get();
                return Optional.of(failed(CANNOT_START.get(w.getReason()), "the container cannot start: " + describe(w), at));
            }
        }
        if (now.isBefore(deadline)) {
            return Optional.empty();
        }
        String limit = "spec.participation.startTimeout (" + written + ")";
        Optional<PodCondition> unschedulable = conditions(pod).stream()
                .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason()))
                .findFirst();
        if (unschedulable.isPresent()) {
            return Optional.of(failed(FailureReason.PodUnschedulable, "not scheduled within " + limit + ": "
                    + Optional.ofNullable(unschedulable.get().getMessage()).orElse("no node fits the pod"), deadline));
        }
        return Optional.of(failed(FailureReason.StartTimeout, "still Pending after " + limit
                + waiting.map(w -> ": " + describe(w)).orElse(""), deadline));
    }

    /** When a pending pod is to be looked at again, though it may send no event by then; empty for a started pod. */
    public Optional<Instant> recheckAt(Pod pod) {
        Instant created = created(pod);
        if (!pending(pod) || created == null) {
            return Optional.empty();
        }
        Instant deadline = created.plus(startTimeout);
        Instant grace = graceEnds(pod, created);
        return Optional.of(waiting(pod).filter(w -> CANNOT_START.containsKey(w.getReason())).isPresent() && grace.isBefore(deadline)
                ? grace : deadline);
    }

    private Instant graceEnds(Pod pod, Instant created) {
        Instant accepted = pod.getStatus() != null && pod.getStatus().getStartTime() != null ? parse(pod.getStatus().getStartTime()) : null;
        Duration grace = GRACE.compareTo(startTimeout) < 0 ? GRACE : startTimeout;
        return (accepted != null && accepted.isAfter(created) ? accepted : created).plus(grace);
    }

    private static boolean pending(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return (phase == null || "Pending".equals(phase)) && pod.getMetadata().getDeletionTimestamp() == null;
    }

    private static Optional<ContainerStateWaiting> waiting(Pod pod) {
        List<ContainerStatus> statuses = pod.getStatus() == null ? null : pod.getStatus().getContainerStatuses();
        return Optional.ofNullable(statuses).orElse(List.of()).stream()
                .filter(s -> s.getState() != null && s.getState().getWaiting() != null && s.getState().getWaiting().getReason() != null)
                .map(s -> s.getState().getWaiting()).findFirst();
    }

    private static List<PodCondition> conditions(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getConditions() == null ? List.of() : pod.getStatus().getConditions();
    }

    private static String describe(ContainerStateWaiting w) {
        return w.getReason() + (w.getMessage() == null || w.getMessage().isBlank() ? "" : ": " + w.getMessage());
    }

    private static PodOutcome failed(FailureReason reason, String message, Instant at) {
        String bounded = message.length() <= MESSAGE_LIMIT ? message : message.substring(0, MESSAGE_LIMIT - 3) + "...";
        return new PodOutcome(PodOutcome.State.FAILED, reason.name(), bounded, null, at);
    }

    private static Instant created(Pod pod) {
        return parse(pod.getMetadata().getCreationTimestamp());
    }

    private static Instant parse(String time) {
        try {
            return time == null ? null : Instant.parse(time);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
