package io.fedtune.operator.status;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;

/**
 * What the round step concluded in one reconcile: the phase and the machine-readable reason with a message for
 * people. {@code blocked} marks a spec the operator refuses to act on (invalid, or an immutable field changed).
 */
public record Situation(Phase phase, ConditionReason reason, String message, boolean blocked) {

    public static Situation running(ConditionReason reason, String message) {
        return new Situation(Phase.Running, reason, message, false);
    }

    public static Situation of(Phase phase, ConditionReason reason, String message) {
        return new Situation(phase, reason, message, false);
    }

    public static Situation blocked(Phase phase, ConditionReason reason, String message) {
        return new Situation(phase == null ? Phase.Pending : phase, reason, message, true);
    }
}
