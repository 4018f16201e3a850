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
    /** Run: paused by spec.suspend. */
    public static final String SUSPENDED = "Suspended";

    private ConditionType() {
    }
}
