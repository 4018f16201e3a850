package io.fedtune.operator.run;

/**
 * The step of one {@link RoundState}: it acts (creates or deletes pods, records a round) and says what it concluded
 * on the snapshot (situation, requeue, the state it leaves the run in). One step runs per reconcile.
 */
sealed interface RoundStep<S extends RoundState>
        permits RefuseSpec, StayFailed, FinishRun, StaySuspended, StartRound, TrainShards, AggregateRound {

    /** The state this step handles. */
    Class<S> handles();

    void apply(RunSnapshot s, S state);

    default void applyTo(RunSnapshot s, RoundState state) {
        apply(s, handles().cast(state));
    }
}
