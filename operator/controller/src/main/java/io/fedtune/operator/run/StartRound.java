package io.fedtune.operator.run;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.BaseModelSpec;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.ShardCounts;
import io.fedtune.api.v1alpha1.StartedWith;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.shard.ShardSelection;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link RoundState.BetweenRounds}: waits for enough eligible shards, or starts the next round. A new round is written to
 * status (shards, start time) before any pod exists, so a restarted operator trains exactly the shards this one chose.
 */
final class StartRound extends RoundStep<RoundState.BetweenRounds> {

    StartRound(RoundActions actions) {
        super(RoundState.BetweenRounds.class, actions);
    }

    /**
     * The immutable fields as the run starts, once: when its preparation starts (the base model's files are recorded
     * for this spec.baseModel), or with round 1 for a run an older operator version started.
     */
    static void recordStart(RunSnapshot s) {
        if (s.status.startedWith == null) {
            StartedWith started = new StartedWith();
            started.baseModel = ContractJson.mapper().convertValue(s.run.getSpec().baseModel, BaseModelSpec.class);
            started.lora = ContractJson.mapper().convertValue(s.run.getSpec().lora, LoraSpec.class);
            s.status.startedWith = started;
        }
    }

    @Override
    void apply(RunSnapshot s, RoundState.BetweenRounds state) {
        var eligibility = ShardSelection.eligible(s.run, s.shards);
        FederatedRunSpec spec = s.run.getSpec();
        List<String> eligible = eligibility.eligible().stream().map(c -> c.getMetadata().getName()).toList();
        ShardCounts counts = new ShardCounts();
        counts.eligible = eligible.size();
        counts.paused = eligibility.paused();
        counts.selected = 0;
        s.status.shards = counts;
        int round = state.nextRound();
        List<String> selected = ShardSelection.sample(eligible, spec.participation, spec.training.seed, round);
        if (selected.size() < spec.participation.minShards) {
            s.situation = Situation.running(ConditionReason.WaitingForShards, eligible.size() + " eligible ClientShard(s) ("
                    + eligibility.paused() + " paused) match spec.participation.shardSelector; round " + round + " needs "
                    + spec.participation.minShards + " (spec.participation.minShards)");
            return;
        }
        recordStart(s);
        s.status.currentRound = round;
        s.status.roundShards = new ArrayList<>(selected);
        s.status.roundStartedAt = s.now.toString();
        counts.selected = selected.size();
        counts.running = 0;
        counts.succeeded = 0;
        counts.failed = 0;
        s.movedTo(RoundState.Kind.Training);
        actions.events().record(s.run, EventReason.RoundStarted, "round " + round + " of " + spec.rounds + " started with "
                + selected.size() + " of " + eligible.size() + " eligible shard(s)");
        s.situation = Situation.running(ConditionReason.RoundStarting, "round " + round + " selected " + selected.size() + " shard(s)");
        s.requeueAfter(Duration.ZERO);
    }
}
