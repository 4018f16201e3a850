package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.round.RoundPods;

/**
 * Where a run stands: derived once per reconcile from spec, status and pods ({@link RunPosition}), never remembered
 * anywhere else, so a restarted operator derives the same state. The reconciler runs the one step of it
 * ({@link RoundSteps}); {@code status.stage} is written from it.
 */
sealed interface RoundState {

    /** The states by name, for the one switch that picks the step. */
    enum Kind {
        InvalidSpec,
        Failed,
        Finished,
        Suspended,
        BetweenRounds,
        Training,
        Aggregating;

        Stage stage() {
            return this == Training ? Stage.Training : this == Aggregating ? Stage.Aggregating : Stage.Idle;
        }
    }

    Kind kind();

    default Stage stage() {
        return kind().stage();
    }

    /**
     * The spec is invalid, changed a field a started run cannot change, or names storage the operator has no signer for
     * (SignerMissing); nothing is created or deleted.
     */
    record InvalidSpec(ConditionReason reason, String message, Stage stage) implements RoundState {
        public Kind kind() {
            return Kind.InvalidSpec;
        }
    }

    /** A round could not be completed; the run stays failed (the reason and message are the Failed condition's). */
    record Failed(ConditionReason reason, String message) implements RoundState {
        public Kind kind() {
            return Kind.Failed;
        }
    }

    /** Every round is recorded, or early stopping ended the run. */
    record Finished(ConditionReason reason, String message) implements RoundState {
        public Kind kind() {
            return Kind.Finished;
        }
    }

    /** Between rounds with spec.suspend set. */
    record Suspended(int completed) implements RoundState {
        public Kind kind() {
            return Kind.Suspended;
        }
    }

    /** No round in flight and more to do: the next round starts once enough shards are eligible. */
    record BetweenRounds(int nextRound) implements RoundState {
        public Kind kind() {
            return Kind.BetweenRounds;
        }
    }

    /** The round's shards and start time are in status; its trainer pods run, and no aggregation pod exists yet. */
    record Training(int round, RoundPods pods) implements RoundState {
        public Kind kind() {
            return Kind.Training;
        }
    }

    /** The round's aggregation pod exists: training ended with the cut it carries. */
    record Aggregating(int round, RoundPods pods, RoundCut cut) implements RoundState {
        public Kind kind() {
            return Kind.Aggregating;
        }
    }
}
