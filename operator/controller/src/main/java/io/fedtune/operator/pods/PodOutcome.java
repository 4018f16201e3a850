package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.TrainResult;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a contract pod says about itself: still going, or finished with the result from its termination message.
 * A container that died without a valid message counts as failed with reason ContainerFailed (contract).
 */
public record PodOutcome(State state, String reason, String message, String resultJson, Instant finishedAt) {

    public enum State {
        RUNNING,
        SUCCEEDED,
        FAILED
    }

    public boolean finished() {
        return state != State.RUNNING;
    }

    /**
     * Outcomes by pod uid and resourceVersion: a version's outcome never changes, and every reconcile of a round asks
     * for the outcome of every pod of it, so without this the termination messages were parsed O(pods) times per
     * round each. Only finished pods (the ones with a message to parse), at most 4,096 (termination messages are at most
     * 4 KiB); pods without uid or resourceVersion (built by hand) are not cached.
     */
    private static final int CACHED = 4096;
    private static final Map<String, PodOutcome> CACHE = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PodOutcome> eldest) {
            return size() > CACHED;
        }
    });

    public static PodOutcome of(Pod pod) {
        String uid = pod.getMetadata() == null ? null : pod.getMetadata().getUid();
        String version = pod.getMetadata() == null ? null : pod.getMetadata().getResourceVersion();
        if (uid == null || version == null) {
            return compute(pod);
        }
        String key = uid + "/" + version;
        PodOutcome cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        PodOutcome outcome = compute(pod);
        if (outcome.finished()) {
            CACHE.put(key, outcome);
        }
        return outcome;
    }

    private static PodOutcome compute(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        Optional<ContainerStateTerminated> terminated = terminated(pod);
        if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
            return new PodOutcome(State.RUNNING, null, null, null, null);
        }
        Instant finishedAt = terminated.map(ContainerStateTerminated::getFinishedAt).map(PodOutcome::parse)
                .orElseGet(() -> parse(pod.getMetadata().getCreationTimestamp()));
        String json = terminated.map(ContainerStateTerminated::getMessage).orElse(null);
        if (json != null && oversized(json)) {
            return new PodOutcome(State.FAILED, FailureReason.ContainerFailed.name(), exited(terminated)
                    + " and a termination message over the " + MESSAGE_CAP + "-byte cap, which is not read", null, finishedAt);
        }
        Result result = Result.parse(json);
        if ("Succeeded".equals(phase) && result.outcome == Outcome.Succeeded) {
            return new PodOutcome(State.SUCCEEDED, null, null, json, finishedAt);
        }
        if (result.outcome == Outcome.Failed && result.reason != null) {
            return new PodOutcome(State.FAILED, result.reason, result.message, json, finishedAt);
        }
        String why = exited(terminated) + (json == null || json.isBlank() ? " without a termination message"
                : result.outcome == null ? " with a termination message that is not a contract result (at most " + MESSAGE_CAP + " bytes of JSON)"
                        : " without a Succeeded result in its termination message");
        return new PodOutcome(State.FAILED, FailureReason.ContainerFailed.name(), why, null, finishedAt);
    }

    /** The kubelet caps termination messages at 4 KiB; a fake kubelet or a FallbackToLogsOnError tail may not. */
    public static final int MESSAGE_CAP = 4096;

    private static boolean oversized(String message) {
        // chars never outnumber UTF-8 bytes, so a long string is over the cap without encoding it
        return message.length() > MESSAGE_CAP || message.getBytes(StandardCharsets.UTF_8).length > MESSAGE_CAP;
    }

    /** "the container exited with code 137 (OOMKilled)": the exit code, and the kubelet's reason when it gives one. */
    private static String exited(Optional<ContainerStateTerminated> terminated) {
        return terminated.map(t -> "the container exited with code " + t.getExitCode()
                + (t.getReason() == null || t.getReason().isBlank() ? "" : " (" + shortReason(t.getReason()) + ")"))
                .orElse("the container ended");
    }

    private static String shortReason(String reason) {
        return reason.length() <= 40 ? reason : reason.substring(0, 37) + "...";
    }

    public TrainResult trainResult() {
        return ContractJson.read(resultJson, TrainResult.class);
    }

    public AggregateResult aggregateResult() {
        return ContractJson.read(resultJson, AggregateResult.class);
    }

    public PrepareResult prepareResult() {
        return ContractJson.read(resultJson, PrepareResult.class);
    }

    public PublishResult publishResult() {
        return ContractJson.read(resultJson, PublishResult.class);
    }

    private static Optional<ContainerStateTerminated> terminated(Pod pod) {
        List<ContainerStatus> statuses = pod.getStatus() == null ? null : pod.getStatus().getContainerStatuses();
        if (statuses == null) {
            return Optional.empty();
        }
        return statuses.stream()
                .map(PodOutcome::terminated)
                .flatMap(Optional::stream)
                .findFirst();
    }

    /** The container's terminated state, or its last one (restartPolicy Never leaves it in the state itself). */
    private static Optional<ContainerStateTerminated> terminated(ContainerStatus status) {
        if (status.getState() != null && status.getState().getTerminated() != null) {
            return Optional.of(status.getState().getTerminated());
        }
        return Optional.ofNullable(status.getLastState()).map(s -> s.getTerminated());
    }

    private static Instant parse(String time) {
        try {
            return time == null ? Instant.EPOCH : Instant.parse(time);
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    /** The common head of TrainResult and AggregateResult; a message that is not JSON (logs fallback) has none. */
    private record Result(Outcome outcome, String reason, String message) {
        static Result parse(String json) {
            if (json == null || json.isBlank()) {
                return new Result(null, null, null);
            }
            try {
                var node = ContractJson.mapper().readTree(json);
                Outcome outcome = node.hasNonNull("outcome") ? Outcome.valueOf(node.get("outcome").asText()) : null;
                return new Result(outcome, node.path("reason").asText(null), node.path("message").asText(null));
            } catch (Exception e) {
                return new Result(null, null, null);
            }
        }
    }
}
