package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.round.RoundPods;
import java.util.List;

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
        Preparing,
        Finished,
        Publishing,
        Suspended,
        BetweenRounds,
        Training,
        Aggregating;

        Stage stage() {
            return switch (this) {
                case Preparing -> Stage.Preparing;
                case Training -> Stage.Training;
                case Aggregating -> Stage.Aggregating;
                case Publishing -> Stage.Publishing;
                default -> Stage.Idle;
            };
        }
    }

    Kind kind();

    default Stage stage() {
        return kind().stage();
    }

    /** Whether the pod is part of the work in flight in this state; the others are removed before the step runs. */
    default boolean inFlight(Pod pod) {
        return false;
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

    /** A round (or the preparation, or the publishing) could not be completed; the run stays failed. */
    record Failed(ConditionReason reason, String message) implements RoundState {
        public Kind kind() {
            return Kind.Failed;
        }
    }

    /** Before round 1: the base model's files are not recorded yet. {@code attempts}: the preparation pods, in order. */
    record Preparing(List<Pod> attempts) implements RoundState {
        public Kind kind() {
            return Kind.Preparing;
        }

        @Override
        public boolean inFlight(Pod pod) {
            return PodLabels.ROLE_PREPARER.equals(PodLabels.role(pod));
        }
    }

    /** Every round is recorded, or early stopping ended the run. */
    record Finished(ConditionReason reason, String message) implements RoundState {
        public Kind kind() {
            return Kind.Finished;
        }
    }

    /**
     * The run would be {@code finished}, but its best adapter is not published yet. {@code attempts}: the publishing pods
     * of that adapter, in order.
     */
    record Publishing(Finished finished, AdapterRef adapter, List<Pod> attempts) implements RoundState {
        public Kind kind() {
            return Kind.Publishing;
        }

        @Override
        public boolean inFlight(Pod pod) {
            return PodLabels.ROLE_PUBLISHER.equals(PodLabels.role(pod)) && adapter.round.equals(PodLabels.round(pod));
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

        @Override
        public boolean inFlight(Pod pod) {
            return ofRound(round, pod);
        }
    }

    /** The round's aggregation pod exists: training ended with the cut it carries. */
    record Aggregating(int round, RoundPods pods, RoundCut cut) implements RoundState {
        public Kind kind() {
            return Kind.Aggregating;
        }

        @Override
        public boolean inFlight(Pod pod) {
            return ofRound(round, pod);
        }
    }

    /** A trainer or aggregation pod of the round (a publishing pod carries the round of the adapter it publishes). */
    private static boolean ofRound(int round, Pod pod) {
        return Integer.valueOf(round).equals(PodLabels.round(pod)) && !PodLabels.ROLE_PUBLISHER.equals(PodLabels.role(pod));
    }
}
