package io.fedtune.operator.round;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.ParticipationSpec;
import io.fedtune.operator.pods.PodStart;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where the attempts of one of the server's pods stand (an aggregation, the run's preparation, its publishing), under the
 * run's retry settings: {@link Attempts}, a pod that never starts cut by {@link PodStart}, and StorageUnreachable
 * attempts retried uncharged only until the round timeout after the first attempt was created; past it, the latest
 * storage failure is final.
 *
 * @param attempts        where they stand, the storage deadline applied
 * @param start           how long a pod may take to start
 * @param storageDeadline when retries after storage failures stop; null without a first attempt or a round timeout
 */
public record ServerAttempts(Attempts attempts, PodStart start, Instant storageDeadline) {

    /** @param pods the attempts in order (a list of one role's pods, sorted by attempt) */
    public static ServerAttempts of(List<Pod> pods, ParticipationSpec participation, Instant now) {
        PodStart start = Durations.podStart(participation.startTimeout);
        Attempts a = Attempts.of(pods, participation.maxRetries, Durations.parse(participation.retryBackoff), now, start);
        Instant deadline = pods.isEmpty() ? null : storageDeadline(pods.get(0), participation.roundTimeout);
        if (a.storageFailed() && (a.kind() == Attempts.Kind.BACKOFF || a.kind() == Attempts.Kind.CREATE)
                && deadline != null && !now.isBefore(deadline)) {
            int failedAttempt = a.kind() == Attempts.Kind.CREATE ? a.attempt() - 1 : a.attempt();
            a = new Attempts(Attempts.Kind.FAILED, failedAttempt, a.last(), null);
        }
        return new ServerAttempts(a, start, deadline);
    }

    /** When to look again while backing off: the retry, or the storage deadline when that comes first. */
    public Instant wakeAt() {
        return attempts.storageFailed() && storageDeadline != null && storageDeadline.isBefore(attempts.retryAt())
                ? storageDeadline : attempts.retryAt();
    }

    /** When a running (still pending) attempt is to be looked at again, though it may send no event by then. */
    public Optional<Instant> recheckAt(Pod latest) {
        return start.recheckAt(latest);
    }

    private static Instant storageDeadline(Pod first, String roundTimeout) {
        String created = first.getMetadata().getCreationTimestamp();
        return created == null || roundTimeout == null ? null : Instant.parse(created).plus(Durations.parse(roundTimeout));
    }
}
