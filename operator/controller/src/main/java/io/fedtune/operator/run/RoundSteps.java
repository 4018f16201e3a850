package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.operator.status.RunStatusAggregator;

/**
 * The round state machine: one step per {@link RoundState}, chosen by one switch on the state. Before it, pods that
 * belong to no work in flight (recorded rounds, an aborted one, a finished preparation) are removed, unless the spec is
 * refused.
 */
final class RoundSteps {
    private final RoundActions actions;
    private final RefuseSpec refuseSpec;
    private final StayFailed stayFailed;
    private final FinishRun finishRun;
    private final StaySuspended staySuspended;
    private final StartRound startRound;
    private final TrainShards trainShards;
    private final AggregateRound aggregateRound;
    private final PrepareBaseModel prepareBaseModel;
    private final PublishAdapter publishAdapter;

    RoundSteps(RoundActions actions) {
        this.actions = actions;
        this.refuseSpec = new RefuseSpec(actions);
        this.stayFailed = new StayFailed(actions);
        this.finishRun = new FinishRun(actions);
        this.staySuspended = new StaySuspended(actions);
        this.startRound = new StartRound(actions);
        this.trainShards = new TrainShards(actions);
        this.aggregateRound = new AggregateRound(actions);
        this.prepareBaseModel = new PrepareBaseModel(actions);
        this.publishAdapter = new PublishAdapter(actions);
    }

    /**
     * Derives the run's state, runs its step, and writes into the snapshot's status what it concluded: the stage (the
     * one place it is written), then phase and conditions through the status aggregator.
     */
    RoundState reconcile(RunSnapshot s) {
        RoundState state = RunPosition.of(s, actions.validator().validate(s.run, null), actions.trainers().signs(s.run));
        s.startsIn(state);
        if (state.kind() != RoundState.Kind.InvalidSpec) {
            removePodsOfOtherRounds(s, state);
        }
        step(state).applyTo(s, state);
        s.status.stage = s.stage();
        RunStatusAggregator.apply(s.run, s.status, s.situation, s.now);
        return state;
    }

    RoundStep<?> step(RoundState state) {
        return switch (state.kind()) {
            case InvalidSpec -> refuseSpec;
            case Failed -> stayFailed;
            case Preparing -> prepareBaseModel;
            case Finished -> finishRun;
            case Publishing -> publishAdapter;
            case Suspended -> staySuspended;
            case BetweenRounds -> startRound;
            case Training -> trainShards;
            case Aggregating -> aggregateRound;
        };
    }

    /**
     * Recorded rounds live on in status, the recorded base model and published result too; their pods (and those of an
     * aborted round) are no longer needed.
     */
    private void removePodsOfOtherRounds(RunSnapshot s, RoundState state) {
        for (Pod pod : s.pods) {
            if (!state.inFlight(pod) && pod.getMetadata().getDeletionTimestamp() == null) {
                actions.pods().delete(pod);
            }
        }
    }
}
