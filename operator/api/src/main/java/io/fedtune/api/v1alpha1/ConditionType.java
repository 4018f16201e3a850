package io.fedtune.api.v1alpha1;

/** The condition types fedtune sets. Positive polarity: Ready=False, never NotReady=True. */
public final class ConditionType {
    /** Run: the spec is valid and the run is healthy (running, suspended or succeeded). Shard: valid and usable. */
    public static final String READY = "Ready";
    /** Run: a round is in progress or about to start. */
    public static final String PROGRESSING = "Progressing";
    /** Run: all rounds done, or stopped early. */
    public static final String SUCCEEDED = "Succeeded";
    /** Run: stopped for good; the reason says why. */
    public static final String FAILED = "Failed";
    /** Run: going on, but something is wrong (failing shards, refused updates, regression). */
    public static final String DEGRADED = "Degraded";
    /**
     * Run: the round's latest attempts failed StorageUnreachable (the run's object storage, not the shards); such
     * attempts are retried without counting against maxRetries. False once a later attempt got past storage; absent on
     * a run that never saw an outage.
     */
    public static final String STORAGE_UNAVAILABLE = "StorageUnavailable";
    /** Run: paused by spec.suspend. */
    public static final String SUSPENDED = "Suspended";

    private ConditionType() {
    }
}
