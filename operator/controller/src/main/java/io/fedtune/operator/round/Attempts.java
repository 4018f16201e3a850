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
 * waits exactly as long as the first would have. An attempt that failed with StorageUnreachable failed for the run's
 * shared storage, not for itself: it is not charged against maxRetries, and is retried after retryBackoff doubled per
 * such failure in a row, at most {@link #STORAGE_BACKOFF_CAP} (or retryBackoff when that is longer); the caller's
 * deadline (the round timeout) is what ends those retries.
 */
public record Attempts(Kind kind, int attempt, PodOutcome last, Instant retryAt) {
    public static final Duration STORAGE_BACKOFF_CAP = Duration.ofMinutes(1);

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
                if (FailureReason.isPermanent(outcome.reason())) {
                    return new Attempts(Kind.FAILED, attempt, outcome, null);
                }
                int storageFailures = 0;
                int inARow = 0;
                for (int i = pods.size() - 1; i >= 0; i--) {
                    PodOutcome o = i == pods.size() - 1 ? outcome : PodOutcome.of(pods.get(i));
                    if (storage(o)) {
                        storageFailures++;
                        inARow += inARow == pods.size() - 1 - i ? 1 : 0;
                    }
                }
                Duration wait;
                if (storage(outcome)) {
                    Duration doubled = backoff.multipliedBy(1L << Math.min(inARow - 1, 20));
                    Duration cap = backoff.compareTo(STORAGE_BACKOFF_CAP) > 0 ? backoff : STORAGE_BACKOFF_CAP;
                    wait = doubled.compareTo(cap) > 0 ? cap : doubled;
                } else {
                    // pods gone (cut before they started) and every other failure count; the storage's do not
                    int charged = attempt - storageFailures;
                    if (charged > maxRetries) {
                        return new Attempts(Kind.FAILED, attempt, outcome, null);
                    }
                    wait = backoff.multipliedBy(1L << Math.min(charged - 1, 20));
                }
                Instant due = outcome.finishedAt().plus(wait);
                return due.isAfter(now) ? new Attempts(Kind.BACKOFF, attempt, outcome, due)
                        : new Attempts(Kind.CREATE, attempt + 1, outcome, null);
        }
    }

    /** Whether an attempt failed for the run's storage (StorageUnreachable), which no retry budget is charged for. */
    public static boolean storage(PodOutcome outcome) {
        return outcome != null && outcome.state() == PodOutcome.State.FAILED
                && FailureReason.StorageUnreachable.name().equals(outcome.reason());
    }

    /** Whether the latest attempt failed for the run's storage. */
    public boolean storageFailed() {
        return kind != Kind.RUNNING && kind != Kind.SUCCEEDED && storage(last);
    }

    public int failures() {
        return kind == Kind.SUCCEEDED || kind == Kind.RUNNING ? attempt - 1 : (kind == Kind.CREATE ? attempt - 1 : attempt);
    }
}
