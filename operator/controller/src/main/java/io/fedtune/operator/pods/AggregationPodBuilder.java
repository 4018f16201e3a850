package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The aggregation pod of a round attempt; it gets the run's storage credentials and no shard's. */
public final class AggregationPodBuilder {
    private final String defaultImage;

    public AggregationPodBuilder(String defaultImage) {
        this.defaultImage = defaultImage;
    }

    public Pod build(FederatedRun run, AggregateTask task) {
        String runName = run.getMetadata().getName();
        Map<String, String> labels = Map.of(
                PodLabels.RUN, runName,
                PodLabels.ROUND, Integer.toString(task.round()),
                PodLabels.ROLE, PodLabels.ROLE_AGGREGATOR,
                PodLabels.ATTEMPT, Integer.toString(task.attempt()),
                PodLabels.MANAGED_BY, PodLabels.OPERATOR);
        var env = new java.util.ArrayList<io.fabric8.kubernetes.api.model.EnvVar>();
        env.add(RestrictedPod.plain(TrainerEnv.TASK, ContractJson.write(task)));
        env.addAll(RestrictedPod.secretRefs(run.getSpec().storage.credentialsSecret, TrainerEnv.STORAGE_ACCESS_KEY,
                TrainerEnv.STORAGE_SECRET_KEY));
        return RestrictedPod.build(run, PodNames.aggregator(runName, task.round(), task.attempt()), labels, "aggregate",
                "aggregator", env, PodSettings.merge(run.getSpec().aggregator, null), defaultImage);
    }

    /** The task a pod was started with: a retry repeats it exactly, whatever the trainer pods look like by then. */
    public static Optional<AggregateTask> taskOf(Pod pod) {
        return pod.getSpec().getContainers().stream()
                .flatMap(c -> Optional.ofNullable(c.getEnv()).orElse(List.of()).stream())
                .filter(e -> TrainerEnv.TASK.equals(e.getName()) && e.getValue() != null)
                .findFirst()
                .map(e -> ContractJson.read(e.getValue(), AggregateTask.class));
    }
}
