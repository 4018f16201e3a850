package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.BaseModelSpec;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.ShardCounts;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.api.v1alpha1.StartedWith;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.operator.shard.ShardSelection;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Between rounds: clears the pods of recorded rounds, then finishes, stays failed, pauses, waits for shards, or starts
 * the next round. A new round is written to status (shards, start time) before any pod exists, so a restarted
 * operator trains exactly the shards this one chose.
 */
final class StartRound implements RoundStep {
    private final RoundActions actions;

    StartRound(RoundActions actions) {
        this.actions = actions;
    }

    @Override
    public Next apply(RunSnapshot s) {
        removePodsOfRecordedRounds(s);
        if (s.inRound()) {
            return Next.CONTINUE;
        }
        FederatedRunSpec spec = s.run.getSpec();
        s.status.stage = Stage.Idle;
        if (s.status.phase == Phase.Failed) {
            var failed = Conditions.find(s.status.conditions, ConditionType.FAILED);
            s.situation = Situation.of(Phase.Failed, failed.map(c -> c.getReason()).orElse("RoundFailed"),
                    failed.map(c -> c.getMessage()).orElse(""));
            return Next.STOP;
        }
        if (earlyStopped(s)) {
            return finish(s, "EarlyStopped", "the primary eval loss did not improve by more than "
                    + spec.evaluation.earlyStopping.minDelta + " for " + s.status.roundsWithoutImprovement
                    + " rounds; the best adapter is from round " + bestRound(s));
        }
        if (s.completed() >= spec.rounds) {
            return finish(s, "RoundsCompleted", "all " + spec.rounds + " rounds completed; the best adapter is from round " + bestRound(s));
        }
        if (Boolean.TRUE.equals(spec.suspend)) {
            if (s.status.phase != Phase.Suspended) {
                actions.events().normal(s.run, "Suspended", "suspended after round " + s.completed());
            }
            s.situation = Situation.of(Phase.Suspended, "SuspendRequested", "suspended after round " + s.completed()
                    + "; set spec.suspend to false to resume");
            return Next.STOP;
        }
        var eligibility = ShardSelection.eligible(s.run, s.shards);
        List<String> eligible = eligibility.eligible().stream().map(c -> c.getMetadata().getName()).toList();
        ShardCounts counts = new ShardCounts();
        counts.eligible = eligible.size();
        counts.paused = eligibility.paused();
        counts.selected = 0;
        s.status.shards = counts;
        int round = s.completed() + 1;
        List<String> selected = ShardSelection.sample(eligible, spec.participation, spec.training.seed, round);
        if (selected.size() < spec.participation.minShards) {
            s.situation = Situation.running("WaitingForShards", eligible.size() + " eligible ClientShard(s) ("
                    + eligibility.paused() + " paused) match spec.participation.shardSelector; round " + round + " needs "
                    + spec.participation.minShards + " (spec.participation.minShards)");
            return Next.STOP;
        }
        if (s.status.startedWith == null) {
            StartedWith started = new StartedWith();
            started.baseModel = ContractJson.mapper().convertValue(spec.baseModel, BaseModelSpec.class);
            started.lora = ContractJson.mapper().convertValue(spec.lora, LoraSpec.class);
            s.status.startedWith = started;
        }
        s.status.currentRound = round;
        s.status.roundShards = new ArrayList<>(selected);
        s.status.roundStartedAt = s.now.toString();
        s.status.stage = Stage.Training;
        counts.selected = selected.size();
        counts.running = 0;
        counts.succeeded = 0;
        counts.failed = 0;
        actions.events().normal(s.run, "RoundStarted", "round " + round + " of " + spec.rounds + " started with "
                + selected.size() + " of " + eligible.size() + " eligible shard(s)");
        s.situation = Situation.running("RoundStarting", "round " + round + " selected " + selected.size() + " shard(s)");
        s.requeueAfter(Duration.ZERO);
        return Next.STOP;
    }

    private Next finish(RunSnapshot s, String reason, String message) {
        if (s.status.phase != Phase.Succeeded) {
            actions.events().normal(s.run, "RunSucceeded", message);
        }
        s.situation = Situation.of(Phase.Succeeded, reason, message);
        return Next.STOP;
    }

    private static boolean earlyStopped(RunSnapshot s) {
        var early = s.run.getSpec().evaluation.earlyStopping;
        return early != null && s.status.roundsWithoutImprovement != null && s.status.roundsWithoutImprovement >= early.patience;
    }

    private static Integer bestRound(RunSnapshot s) {
        return s.status.bestAdapter != null ? s.status.bestAdapter.round : null;
    }

    /** Recorded rounds live on in status; their pods (and those of an aborted round) are no longer needed. */
    private void removePodsOfRecordedRounds(RunSnapshot s) {
        for (Pod pod : s.pods) {
            Integer round = RoundPods.round(pod);
            boolean current = s.inRound() && round != null && round.equals(s.status.currentRound);
            if (!current && pod.getMetadata().getDeletionTimestamp() == null) {
                actions.pods().delete(pod);
            }
        }
    }
}
