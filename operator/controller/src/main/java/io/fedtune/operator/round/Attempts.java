package io.fedtune.operator.round;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.PodStart;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Where a sequence of attempts (a shard's trainer pods, or a round's aggregation pods) stands, and when the next retry
 * is due: retryBackoff doubled per failed attempt, counted from when the last attempt finished, so a restarted operator
 * waits exactly as long as the first would have.
 */
public record Attempts(Kind kind, int attempt, PodOutcome last, Instant retryAt) {

    public enum Kind {
        /** No pod yet for {@code attempt}: create it. */
        CREATE,
        RUNNING,
        SUCCEEDED,
        /** The last attempt failed; the next one is due at retryAt. */
        BACKOFF,
        /** Failed with no retries left, or with a reason another attempt cannot fix ({@link FailureReason#permanent()}). */
        FAILED
    }

    public static Attempts of(List<Pod> pods, int maxRetries, Duration backoff, Instant now) {
        return of(pods, maxRetries, backoff, now, null);
    }

    /** As above, and a pod that did not start in time ({@link PodStart}) counts as failed from when it became stuck. */
    public static Attempts of(List<Pod> pods, int maxRetries, Duration backoff, Instant now, PodStart start) {
        if (pods.isEmpty()) {
            return new Attempts(Kind.CREATE, 1, null, null);
        }
        Pod latest = pods.get(pods.size() - 1);
        int attempt = PodLabels.attempt(latest);
        PodOutcome kubelet = PodOutcome.of(latest);
        PodOutcome outcome = kubelet.finished() || start == null ? kubelet : start.stuck(latest, now).orElse(kubelet);
        switch (outcome.state()) {
            case RUNNING:
                return new Attempts(Kind.RUNNING, attempt, outcome, null);
            case SUCCEEDED:
                return new Attempts(Kind.SUCCEEDED, attempt, outcome, null);
            default:
                if (attempt > maxRetries || FailureReason.isPermanent(outcome.reason())) {
                    return new Attempts(Kind.FAILED, attempt, outcome, null);
                }
                Instant due = outcome.finishedAt().plus(backoff.multipliedBy(1L << Math.min(attempt - 1, 20)));
                return due.isAfter(now) ? new Attempts(Kind.BACKOFF, attempt, outcome, due)
                        : new Attempts(Kind.CREATE, attempt + 1, outcome, null);
        }
    }

    public int failures() {
        return kind == Kind.SUCCEEDED || kind == Kind.RUNNING ? attempt - 1 : (kind == Kind.CREATE ? attempt - 1 : attempt);
    }
}
