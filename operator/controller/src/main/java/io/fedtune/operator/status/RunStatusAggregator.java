package io.fedtune.operator.status;

import static io.fedtune.api.v1alpha1.ConditionReason.AllShardsHealthy;
import static io.fedtune.api.v1alpha1.ConditionReason.NoFailure;
import static io.fedtune.api.v1alpha1.ConditionReason.NotSuspended;
import static io.fedtune.api.v1alpha1.ConditionReason.ReconcileError;
import static io.fedtune.api.v1alpha1.ConditionReason.RolledBack;
import static io.fedtune.api.v1alpha1.ConditionReason.RoundFailed;
import static io.fedtune.api.v1alpha1.ConditionReason.RoundInProgress;
import static io.fedtune.api.v1alpha1.ConditionReason.RoundsRemaining;
import static io.fedtune.api.v1alpha1.ConditionReason.RunFailed;
import static io.fedtune.api.v1alpha1.ConditionReason.ShardsFailed;
import static io.fedtune.api.v1alpha1.ConditionReason.SuspendRequested;
import static io.fedtune.api.v1alpha1.ConditionReason.UpdatesRefused;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.RoundSummary;
import java.time.Instant;

/**
 * The one place a FederatedRun's phase, progress and conditions are derived: from the situation a round step
 * concluded and the status, or from an exception a reconcile ended in.
 */
public final class RunStatusAggregator {
    private RunStatusAggregator() {
    }

    public static void apply(FederatedRun run, FederatedRunStatus status, Situation situation, Instant now) {
        Long generation = run.getMetadata().getGeneration();
        status.observedGeneration = generation;
        status.phase = situation.phase();
        int round = status.currentRound == null ? 0 : status.currentRound;
        status.progress = round + "/" + run.getSpec().rounds;
        Conditions c = new Conditions(status.conditions, generation, now);
        Phase phase = situation.phase();

        if (situation.blocked() || phase == Phase.Failed) {
            c.set(ConditionType.READY, false, situation.reason(), situation.message());
        } else {
            c.set(ConditionType.READY, true, ConditionReason.ready(phase), situation.message());
        }
        c.set(ConditionType.PROGRESSING, phase == Phase.Running && !situation.blocked(), situation.reason(), situation.message());
        if (phase == Phase.Succeeded) {
            c.set(ConditionType.SUCCEEDED, true, situation.reason(), situation.message());
        } else {
            c.set(ConditionType.SUCCEEDED, false, phase == Phase.Failed ? RunFailed : RoundsRemaining,
                    completed(status) + " of " + run.getSpec().rounds + " rounds completed");
        }
        if (phase == Phase.Failed) {
            c.set(ConditionType.FAILED, true, situation.reason(), situation.message());
        } else {
            c.set(ConditionType.FAILED, false, NoFailure, "");
        }
        degraded(status, c, situation.shardFailures());
        storage(status, c, situation.storage());
        if (phase == Phase.Suspended) {
            c.set(ConditionType.SUSPENDED, true, SuspendRequested, "spec.suspend is true; the run resumes when it is false");
        } else if (Boolean.TRUE.equals(run.getSpec().suspend) && phase == Phase.Running) {
            c.set(ConditionType.SUSPENDED, false, RoundInProgress, "the run suspends after round " + round + " finishes");
        } else {
            c.set(ConditionType.SUSPENDED, false, NotSuspended, "");
        }
    }

    /**
     * A reconcile that threw: Ready=False, reason ReconcileError, with what went wrong (already free of secrets). The
     * rest of status stays as the last reconcile left it; the next reconcile that gets through sets Ready again.
     */
    public static void reconcileError(FederatedRun run, FederatedRunStatus status, String message, Instant now) {
        Long generation = run.getMetadata().getGeneration();
        status.observedGeneration = generation;
        if (status.phase == null) {
            status.phase = Phase.Pending;
        }
        new Conditions(status.conditions, generation, now).set(ConditionType.READY, false, ReconcileError, message);
    }

    /**
     * StorageUnavailable: True while the round's latest finished attempt failed StorageUnreachable; False once a later
     * one got past storage. Absent until the first outage; unchanged by a reconcile that learnt nothing of storage.
     */
    private static void storage(FederatedRunStatus status, Conditions c, Situation.Storage storage) {
        if (storage == null) {
            return;
        }
        if (storage.unavailable()) {
            c.set(ConditionType.STORAGE_UNAVAILABLE, true, ConditionReason.Unreachable, storage.message());
        } else if (Conditions.find(status.conditions, ConditionType.STORAGE_UNAVAILABLE).isPresent()) {
            c.set(ConditionType.STORAGE_UNAVAILABLE, false, ConditionReason.Reachable, storage.message());
        }
    }

    /** Degraded: the run goes on, but shards failed or were refused, or the last round regressed. */
    private static void degraded(FederatedRunStatus status, Conditions c, String shardFailures) {
        if (status.shards != null && status.shards.failed != null && status.shards.failed > 0
                && status.currentRound != null && status.currentRound > completed(status)) {
            c.set(ConditionType.DEGRADED, true, ShardsFailed, status.shards.failed + " shard(s) of round " + status.currentRound
                    + " failed" + (shardFailures == null ? "" : ": " + shardFailures));
            return;
        }
        RoundSummary last = status.history.isEmpty() ? null : status.history.get(status.history.size() - 1);
        if (last == null) {
            c.set(ConditionType.DEGRADED, false, AllShardsHealthy, "");
        } else if (last.outcome == RoundOutcome.Failed) {
            c.set(ConditionType.DEGRADED, true, RoundFailed, "round " + last.round + " failed: " + last.message);
        } else if (!last.failed.isEmpty() || !last.stragglers.isEmpty()) {
            c.set(ConditionType.DEGRADED, true, ShardsFailed, "round " + last.round + ": failed " + last.failed
                    + ", cut by the round timeout " + last.stragglers + (last.message == null ? "" : " (" + last.message + ")"));
        } else if (!last.refused.isEmpty()) {
            c.set(ConditionType.DEGRADED, true, UpdatesRefused, "round " + last.round + ": the aggregator refused "
                    + last.refused.stream().map(r -> r.shard + " (" + r.reason + ")").toList());
        } else if (last.outcome == RoundOutcome.RolledBack) {
            var best = status.bestAdapter;
            c.set(ConditionType.DEGRADED, true, RolledBack, "round " + last.round + " regressed"
                    + (last.globalEvalScore != null && last.evalMetric != null ? " (" + last.evalMetric + " "
                            + String.format(java.util.Locale.ROOT, "%.4f", last.globalEvalScore) + ")" : "")
                    + "; the next round starts from round " + (best != null ? best.round : null) + "'s adapter"
                    + (best != null && best.evalScore != null && best.evalMetric != null ? " (" + best.evalMetric + " "
                            + String.format(java.util.Locale.ROOT, "%.4f", best.evalScore) + ")" : ""));
        } else {
            c.set(ConditionType.DEGRADED, false, AllShardsHealthy, "round " + last.round + " used every selected shard");
        }
    }

    public static int completed(FederatedRunStatus status) {
        return status.completedRounds == null ? 0 : status.completedRounds;
    }
}
