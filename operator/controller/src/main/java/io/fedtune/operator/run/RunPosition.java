package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.operator.status.RunStatusAggregator;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.validation.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Derives a run's {@link RoundState} from its spec, status and pods: the only place where a run's state is worked out. */
final class RunPosition {
    private RunPosition() {
    }

    /**
     * @param violations what the CRD schema and CEL rules say about the spec
     * @param signed     whether the operator has a signer for the run's storage endpoint (trainer pods get presigned URLs)
     */
    static RoundState of(RunSnapshot s, List<Violation> violations, boolean signed) {
        RoundState round = ofRound(s);
        if (!violations.isEmpty()) {
            return new RoundState.InvalidSpec(ConditionReason.InvalidSpec,
                    String.join("; ", violations.stream().map(Violation::message).toList()), round.stage());
        }
        List<String> changed = changedImmutableFields(s);
        if (!changed.isEmpty()) {
            return new RoundState.InvalidSpec(ConditionReason.ImmutableFieldChanged, String.join(", ", changed)
                    + " changed after the run started; set it back, or create a new FederatedRun for a different "
                    + (changed.size() > 1 ? "base model or adapter shape"
                            : changed.get(0).equals("spec.baseModel") ? "base model" : "adapter shape"), round.stage());
        }
        if (!signed) {
            return new RoundState.InvalidSpec(ConditionReason.SignerMissing, signerMissing(s.run.getSpec().storage.endpoint),
                    round.stage());
        }
        return round;
    }

    static String signerMissing(String endpoint) {
        return "no storage signer for " + endpoint + ": the operator signs trainer pods' URLs with a credential mounted "
                + "by the chart; add the endpoint to the chart's storageSigners values (endpoint, secretName) and upgrade";
    }

    private static RoundState ofRound(RunSnapshot s) {
        FederatedRunStatus status = s.status;
        FederatedRunSpec spec = s.run.getSpec();
        int completed = s.completed();
        if (status.currentRound != null && status.currentRound > completed) {
            int round = status.currentRound;
            RoundPods pods = new RoundPods(s.pods, round);
            return pods.aggregatorAttempts().isEmpty() ? new RoundState.Training(round, pods)
                    : new RoundState.Aggregating(round, pods, RoundCut.of(pods.aggregatorAttempts().get(0)));
        }
        if (status.phase == Phase.Failed) {
            var failed = Conditions.find(status.conditions, ConditionType.FAILED);
            return new RoundState.Failed(failed.flatMap(c -> ConditionReason.of(c.getReason())).orElse(ConditionReason.RoundFailed),
                    failed.map(c -> c.getMessage()).orElse(""));
        }
        boolean suspended = Boolean.TRUE.equals(spec.suspend);
        if (beforeRoundOne(status)) {
            List<Pod> attempts = RoundPods.attempts(s.pods, PodLabels.ROLE_PREPARER, null);
            // like a round, a preparation that has begun finishes (retries included) before a suspend takes effect
            if (!suspended || !attempts.isEmpty()) {
                return new RoundState.Preparing(attempts);
            }
        }
        RoundState.Finished finished = finished(spec, status, completed);
        if (finished != null) {
            AdapterRef best = status.bestAdapter;
            return unpublished(status) ? new RoundState.Publishing(finished, best, RoundPods.attempts(s.pods, PodLabels.ROLE_PUBLISHER, best.round))
                    : finished;
        }
        if (suspended) {
            return new RoundState.Suspended(completed);
        }
        return new RoundState.BetweenRounds(completed + 1);
    }

    private static RoundState.Finished finished(FederatedRunSpec spec, FederatedRunStatus status, int completed) {
        var early = spec.evaluation.earlyStopping;
        Integer bestRound = status.bestAdapter != null ? status.bestAdapter.round : null;
        if (early != null && status.roundsWithoutImprovement != null && status.roundsWithoutImprovement >= early.patience) {
            AdapterRef best = status.bestAdapter;
            String metric = best != null && AdapterChoice.metric(best) != null ? AdapterChoice.metric(best) : "eval metric";
            return new RoundState.Finished(ConditionReason.EarlyStopped, "the primary " + metric + " did not improve by more than "
                    + early.minDelta + " for " + status.roundsWithoutImprovement + " rounds; the best adapter is from round " + bestRound
                    + (best != null && AdapterChoice.score(best) != null ? " (" + metric + " "
                            + RoundEnding.Score.format(AdapterChoice.score(best)) + ")" : ""));
        }
        if (completed >= spec.rounds) {
            return new RoundState.Finished(ConditionReason.RoundsCompleted, "all " + spec.rounds
                    + " rounds completed; the best adapter is from round " + bestRound);
        }
        return null;
    }

    /**
     * The base model's files are not recorded and nothing has started. A run an older operator version started (a round
     * begun or recorded, but no status.baseModel) is not prepared mid-run: its pods check what they checked before.
     */
    private static boolean beforeRoundOne(FederatedRunStatus status) {
        return status.baseModel == null && status.currentRound == null && RunStatusAggregator.completed(status) == 0
                && status.history.isEmpty();
    }

    /**
     * The run is done and its best adapter is not what final/ holds (never published, or rounds were added and a later
     * round is the best now). A run an older operator version already finished (Succeeded, no status.result) is left as
     * it is: its adapters may be gone from storage by now, and a publication that failed would fail a succeeded run.
     */
    private static boolean unpublished(FederatedRunStatus status) {
        AdapterRef best = status.bestAdapter;
        return best != null && best.round != null && status.phase != Phase.Succeeded
                && (status.result == null || !best.round.equals(status.result.round));
    }

    private static List<String> changedImmutableFields(RunSnapshot s) {
        List<String> changed = new ArrayList<>();
        if (s.status.startedWith == null) {
            return changed;
        }
        var mapper = ContractJson.mapper();
        if (!Objects.equals(mapper.valueToTree(s.status.startedWith.baseModel), mapper.valueToTree(s.run.getSpec().baseModel))) {
            changed.add("spec.baseModel");
        }
        if (!Objects.equals(mapper.valueToTree(s.status.startedWith.lora), mapper.valueToTree(s.run.getSpec().lora))) {
            changed.add("spec.lora");
        }
        return changed;
    }
}
