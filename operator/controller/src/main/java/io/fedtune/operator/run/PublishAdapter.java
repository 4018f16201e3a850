package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.TrainerPodBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@link RoundState.Publishing}: one publishing pod (the server's) copies the best adapter to the run's final/ prefix,
 * checking each file against the SHA-256 recorded from the aggregation that wrote it; the operator records the result
 * in status.result and the run finishes as {@link FinishRun} finishes it.
 */
final class PublishAdapter extends ServerTaskStep<RoundState.Publishing> {
    private final FinishRun finish;

    PublishAdapter(RoundActions actions) {
        super(RoundState.Publishing.class, actions, new Reasons(ConditionReason.Publishing, ConditionReason.PublishingRetryBackoff,
                ConditionReason.PublishingFailed, EventReason.PublishingFailed));
        this.finish = new FinishRun(actions);
    }

    @Override
    String what(RunSnapshot s, RoundState.Publishing state) {
        return "publishing round " + state.adapter().round + "'s adapter to " + TrainerPodBuilder.layout(s.run).finalAdapter();
    }

    @Override
    List<Pod> attempts(RoundState.Publishing state) {
        return state.attempts();
    }

    @Override
    Pod pod(RunSnapshot s, RoundState.Publishing state, int attempt) {
        FederatedRunSpec spec = s.run.getSpec();
        AdapterRef adapter = state.adapter();
        return actions.aggregators().serverTasks().publish(s.run, new PublishTask(s.name(), s.namespace(), attempt,
                new StorageRef(spec.storage.endpoint, spec.storage.region), adapter.uri, adapter.round, adapter.recordedSha256(),
                adapter.evalLoss, spec.baseModel.uri, TrainerPodBuilder.layout(s.run).finalAdapter(),
                RunModelCard.of(s.name(), spec, s.status, adapter)));
    }

    @Override
    Optional<String> succeeded(RunSnapshot s, RoundState.Publishing state, PodOutcome outcome) {
        PublishResult published = outcome.publishResult();
        AdapterRef adapter = state.adapter();
        if (adapter.sha256 != null && published.sha256() != null && !adapter.sha256.equalsIgnoreCase(published.sha256())) {
            return Optional.of("the published " + ObjectLayout.ADAPTER_WEIGHTS + " has SHA-256 " + published.sha256() + ", not the recorded "
                    + adapter.sha256);
        }
        AdapterRef result = new AdapterRef(published.adapter() != null ? published.adapter() : TrainerPodBuilder.layout(s.run).finalAdapter(),
                adapter.round, published.sha256() != null ? published.sha256() : adapter.sha256, adapter.evalLoss);
        result.evalMetric = adapter.evalMetric;
        result.evalScore = adapter.evalScore;
        result.configSha256 = published.files() != null ? published.files().get(ObjectLayout.ADAPTER_CONFIG) : adapter.configSha256;
        s.status.result = result;
        actions.events().record(s.run, EventReason.Published, "round " + result.round + "'s adapter is published at " + result.uri
                + " (" + ObjectLayout.ADAPTER_WEIGHTS + " SHA-256 " + result.sha256 + ")");
        s.movedTo(RoundState.Kind.Finished);
        finish.apply(s, state.finished());
        // a status write wakes no reconcile: the next one, Finished, removes the publishing pod
        s.requeueAfter(Duration.ZERO);
        return Optional.empty();
    }
}
