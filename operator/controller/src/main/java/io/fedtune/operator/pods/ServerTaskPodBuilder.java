package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.PodOverrides;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The server's two small task pods: the run's preparation (every base model file's SHA-256, before round 1) and its
 * publishing (the best adapter copied to final/). Like the aggregation pod they hold the run's storage credentials and
 * take spec.aggregator's settings, but no GPU: they only read, hash and copy files. Their task is a few hundred bytes,
 * so it travels in FEDTUNE_TASK.
 */
public final class ServerTaskPodBuilder {
    static final String PREPARE = "prepare";
    static final String PUBLISH = "publish";
    private final PodDefaults defaults;

    public ServerTaskPodBuilder(PodDefaults defaults) {
        this.defaults = defaults;
    }

    public Pod prepare(FederatedRun run, PrepareTask task) {
        String runName = run.getMetadata().getName();
        Map<String, String> labels = labels(runName, PodLabels.ROLE_PREPARER, task.attempt());
        return build(run, PodNames.preparer(runName, task.attempt()), labels, PREPARE, "preparer", ContractJson.write(task));
    }

    public Pod publish(FederatedRun run, PublishTask task) {
        String runName = run.getMetadata().getName();
        Map<String, String> labels = labels(runName, PodLabels.ROLE_PUBLISHER, task.attempt());
        labels.put(PodLabels.ROUND, Integer.toString(task.round()));
        return build(run, PodNames.publisher(runName, task.round(), task.attempt()), labels, PUBLISH, "publisher",
                ContractJson.write(task));
    }

    /** The task a preparation or publishing pod was started with, from its FEDTUNE_TASK. */
    public static <T> Optional<T> taskOf(Pod pod, Class<T> type) {
        return pod.getSpec().getContainers().stream()
                .flatMap(c -> Optional.ofNullable(c.getEnv()).orElse(List.of()).stream())
                .filter(e -> TrainerEnv.TASK.equals(e.getName()) && e.getValue() != null)
                .findFirst().map(e -> ContractJson.read(e.getValue(), type));
    }

    private Pod build(FederatedRun run, String name, Map<String, String> labels, String role, String container, String task) {
        PodOverrides settings = PodSettings.merge(run.getSpec().aggregator, null);
        settings.resources = GpuRequest.withoutGpu(settings.resources);
        return RestrictedPod.build(run, name, labels, role, container, List.of(RestrictedPod.plain(TrainerEnv.TASK, task)),
                settings, defaults);
    }

    private static Map<String, String> labels(String run, String role, int attempt) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(PodLabels.RUN, PodLabels.value(run));
        labels.put(PodLabels.ROLE, role);
        labels.put(PodLabels.ATTEMPT, Integer.toString(attempt));
        labels.put(PodLabels.MANAGED_BY, PodLabels.OPERATOR);
        return labels;
    }
}
