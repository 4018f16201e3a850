package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link RoundState.Preparing}: one preparation pod (the server's, with the run's credentials) reads every file under
 * spec.baseModel.uri and reports its SHA-256; the operator records them in status.baseModel, which every later pod that
 * reads the base model is checked against, and round 1 starts.
 */
final class PrepareBaseModel extends ServerTaskStep<RoundState.Preparing> {

    PrepareBaseModel(RoundActions actions) {
        super(RoundState.Preparing.class, actions, new Reasons(ConditionReason.Preparing, ConditionReason.PreparationRetryBackoff,
                ConditionReason.PreparationFailed, EventReason.PreparationFailed));
    }

    @Override
    String what(RunSnapshot s, RoundState.Preparing state) {
        return "preparing the base model " + s.run.getSpec().baseModel.uri;
    }

    @Override
    List<Pod> attempts(RoundState.Preparing state) {
        return state.attempts();
    }

    @Override
    Pod pod(RunSnapshot s, RoundState.Preparing state, int attempt) {
        StartRound.recordStart(s);
        FederatedRunSpec spec = s.run.getSpec();
        return actions.aggregators().serverTasks().prepare(s.run, new PrepareTask(s.name(), s.namespace(), attempt,
                new StorageRef(spec.storage.endpoint, spec.storage.region), spec.baseModel.uri, spec.baseModel.sha256));
    }

    @Override
    Optional<String> succeeded(RunSnapshot s, RoundState.Preparing state, PodOutcome outcome) {
        PrepareResult result = outcome.prepareResult();
        List<ModelFile> files = result.files() == null ? List.of() : result.files();
        if (files.isEmpty()) {
            return Optional.of("the preparation pod reported no files");
        }
        String expected = s.run.getSpec().baseModel.sha256;
        Optional<ModelFile> weights = files.stream().filter(f -> ObjectLayout.MODEL_WEIGHTS.equals(f.name)).findFirst();
        if (expected != null && weights.isPresent() && !expected.equalsIgnoreCase(weights.get().sha256)) {
            return Optional.of(ObjectLayout.MODEL_WEIGHTS + " has SHA-256 " + weights.get().sha256 + ", spec.baseModel.sha256 is " + expected);
        }
        s.status.baseModel = new ArrayList<>(files);
        actions.events().record(s.run, EventReason.Prepared, "the base model " + s.run.getSpec().baseModel.uri + " is recorded: "
                + files.size() + " file(s)" + weights.map(w -> ", " + ObjectLayout.MODEL_WEIGHTS + " " + w.sha256).orElse(""));
        s.movedTo(RoundState.Kind.BetweenRounds);
        s.situation = Situation.running(ConditionReason.Preparing, "the base model's " + files.size()
                + " file(s) are recorded; round 1 starts next");
        s.requeueAfter(Duration.ZERO);
        return Optional.empty();
    }
}
