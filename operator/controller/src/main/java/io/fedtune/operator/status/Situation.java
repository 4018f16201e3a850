package io.fedtune.operator.status;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;

/**
 * What the round step concluded in one reconcile: the phase and the machine-readable reason with a message for
 * people. {@code blocked} marks a spec the operator refuses to act on (invalid, or an immutable field changed);
 * {@code shardFailures} says which shards of the round in flight failed for good and why (empty or null: none);
 * {@code storage} is what the round's attempts say of the run's object storage (null: nothing new).
 */
public record Situation(Phase phase, ConditionReason reason, String message, boolean blocked, String shardFailures,
        Storage storage) {

    /** The run's object storage as the round's latest finished attempt saw it, for the StorageUnavailable condition. */
    public record Storage(boolean unavailable, String message) {
    }

    public static Situation running(ConditionReason reason, String message) {
        return new Situation(Phase.Running, reason, message, false, null, null);
    }

    public static Situation of(Phase phase, ConditionReason reason, String message) {
        return new Situation(phase, reason, message, false, null, null);
    }

    public static Situation blocked(Phase phase, ConditionReason reason, String message) {
        return new Situation(phase == null ? Phase.Pending : phase, reason, message, true, null, null);
    }

    /** The same, with which shards of the round in flight failed for good and why, for the Degraded condition. */
    public Situation withShardFailures(String failures) {
        return new Situation(phase, reason, message, blocked, failures, storage);
    }

    /** The same, with what the round's attempts say of the run's storage. */
    public Situation withStorage(Storage seen) {
        return new Situation(phase, reason, message, blocked, shardFailures, seen);
    }
}
