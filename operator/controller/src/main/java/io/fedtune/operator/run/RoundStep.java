package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;

/**
 * The step of one {@link RoundState}: it acts (creates or deletes pods, records a round) and says what it concluded
 * on the snapshot (situation, requeue, the state it leaves the run in). One step runs per reconcile.
 */
abstract sealed class RoundStep<S extends RoundState>
        permits RefuseSpec, StayFailed, FinishRun, StaySuspended, StartRound, TrainShards, AggregateRound, ServerTaskStep {
    private final Class<S> handles;
    final RoundActions actions;

    RoundStep(Class<S> handles, RoundActions actions) {
        this.handles = handles;
        this.actions = actions;
    }

    abstract void apply(RunSnapshot s, S state);

    /** Records the Event on entering {@code phase} only, not on each reconcile that finds the run there. */
    final void recordOnEntering(RunSnapshot s, Phase phase, EventReason reason, String message) {
        if (s.status.phase != phase) {
            actions.events().record(s.run, reason, message);
        }
    }

    final void applyTo(RunSnapshot s, RoundState state) {
        apply(s, handles.cast(state));
    }
}
