package io.fedtune.trainer.storage;

import io.fedtune.api.contract.S3Uri;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One storage call's retries ({@link ObjectStore.Retry}): counted from its first transient failure, each wait doubled up
 * to the cap and drawn from its upper half, until the call has been failing for the retry time.
 */
final class RetryClock {
    private final ObjectStore.Retry retry;
    private final ObjectStore.RetryListener listener;
    private long firstFailure;
    private Duration backoff;
    private int attempt;

    RetryClock(ObjectStore.Retry retry, ObjectStore.RetryListener listener) {
        this.retry = retry;
        this.listener = listener;
        this.backoff = retry.firstBackoff();
    }

    /** Attempts so far. */
    int attempts() {
        return attempt;
    }

    /**
     * After a transient failure: waits and returns null to try again, or returns how long the call has been failing once
     * the retry time is spent.
     */
    Duration failed(S3Uri uri, Exception cause) throws StorageException {
        attempt++;
        long now = System.nanoTime();
        if (attempt == 1) {
            firstFailure = now;
        }
        Duration failingFor = Duration.ofNanos(now - firstFailure);
        Duration left = retry.time().minus(failingFor);
        if (left.isNegative() || left.isZero()) {
            return failingFor;
        }
        listener.retrying(uri, attempt, failingFor, cause);
        long half = backoff.toMillis() / 2;
        long wait = Math.min(half + ThreadLocalRandom.current().nextLong(half + 1), left.toMillis() + 1);
        try {
            Thread.sleep(Math.max(1, wait));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new StorageException(StorageException.Kind.UNREACHABLE, "interrupted", ie);
        }
        backoff = backoff.multipliedBy(2).compareTo(retry.maxBackoff()) > 0 ? retry.maxBackoff() : backoff.multipliedBy(2);
        return null;
    }

    Duration retryTime() {
        return retry.time();
    }
}
