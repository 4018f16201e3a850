package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.RefusedUpdate;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.round.RoundPods;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Each shard's part in a recorded round: written to the shard's own status, counted in metrics, told in Events. */
final class ShardResults {
    private final RoundActions actions;

    ShardResults(RoundActions actions) {
        this.actions = actions;
    }

    /** The results of the shards whose last trainer attempt succeeded. */
    static Map<String, TrainResult> trained(RoundPods pods, List<String> shards) {
        Map<String, TrainResult> results = new HashMap<>();
        for (String shard : shards) {
            List<Pod> attempts = pods.trainerAttempts(shard);
            if (!attempts.isEmpty()) {
                PodOutcome outcome = PodOutcome.of(attempts.get(attempts.size() - 1));
                if (outcome.state() == PodOutcome.State.SUCCEEDED) {
                    results.put(shard, outcome.trainResult());
                }
            }
        }
        return results;
    }

    /** Writes what each shard trained; counts as Succeeded those whose update was aggregated ({@code aggregated}). */
    void trained(RunSnapshot s, Map<String, TrainResult> trained, Set<String> aggregated) {
        int round = s.status.currentRound;
        trained.forEach((shard, t) -> {
            actions.shardStatus().trained(s.namespace(), shard, s.name(), round, t);
            if (aggregated.contains(shard)) {
                actions.metrics().shardOutcome(s.namespace(), "Succeeded");
            }
        });
    }

    void refused(RunSnapshot s, List<RefusedUpdate> refused) {
        for (RefusedUpdate r : refused) {
            actions.metrics().shardOutcome(s.namespace(), "Refused");
            actions.events().record(s.run, EventReason.UpdateRefused, "round " + s.status.currentRound
                    + ": the aggregator refused shard " + r.shard + "'s update (" + r.reason + "): " + r.message);
        }
    }

    void failed(RunSnapshot s, RoundPods pods, RoundCut cut) {
        int round = s.status.currentRound;
        for (String shard : cut.failed()) {
            actions.shardStatus().failed(s.namespace(), shard, s.name(), round);
            actions.metrics().shardOutcome(s.namespace(), "Failed");
            actions.events().record(s.run, EventReason.ShardFailed, "round " + round + ": shard " + shard + " failed for good"
                    + RoundHistory.failureDetail(pods, List.of(shard), cut));
        }
        for (String shard : cut.stragglers()) {
            actions.shardStatus().failed(s.namespace(), shard, s.name(), round);
            actions.metrics().shardOutcome(s.namespace(), "Straggler");
        }
    }
}
