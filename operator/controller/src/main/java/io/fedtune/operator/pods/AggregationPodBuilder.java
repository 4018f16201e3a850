package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The aggregation pod of a round attempt; it gets the run's storage credentials and no shard's. Its task (one update per
 * shard: about 250 bytes each, 250 KB at 1,000 shards) travels in a ConfigMap of the same name, owned by the run and
 * mounted read-only at {@link TrainerEnv#DEFAULT_TASK_DIR}, not in an environment variable: Linux refuses a single
 * environment string over 128 KiB at exec, and a pod object that large would be re-sent to every pod watcher on each of
 * its status updates.
 */
public final class AggregationPodBuilder {
    static final String TASK_VOLUME = "task";
    private final PodDefaults defaults;
    private final ServerTaskPodBuilder serverTasks;

    /** The pod and the ConfigMap with its task; create the ConfigMap first. */
    public record AggregationPod(Pod pod, ConfigMap task) {
    }

    public AggregationPodBuilder(String defaultImage) {
        this(PodDefaults.of(defaultImage));
    }

    public AggregationPodBuilder(PodDefaults defaults) {
        this.defaults = defaults;
        this.serverTasks = new ServerTaskPodBuilder(defaults);
    }

    /** The server's other pods (preparation, publishing), with the same defaults. */
    public ServerTaskPodBuilder serverTasks() {
        return serverTasks;
    }

    public AggregationPod build(FederatedRun run, AggregateTask task) {
        String runName = run.getMetadata().getName();
        String name = PodNames.aggregator(runName, task.round(), task.attempt());
        Map<String, String> labels = Map.of(
                PodLabels.RUN, PodLabels.value(runName),
                PodLabels.ROUND, Integer.toString(task.round()),
                PodLabels.ROLE, PodLabels.ROLE_AGGREGATOR,
                PodLabels.ATTEMPT, Integer.toString(task.attempt()),
                PodLabels.MANAGED_BY, PodLabels.OPERATOR);
        var env = new java.util.ArrayList<io.fabric8.kubernetes.api.model.EnvVar>();
        env.add(RestrictedPod.plain(TrainerEnv.TASK_FILE, TrainerEnv.DEFAULT_TASK_DIR + "/" + TrainerEnv.TASK_FILE_NAME));
        var settings = PodSettings.merge(run.getSpec().aggregator, null);
        env.addAll(GpuRequest.deviceEnv(settings.resources));
        Pod restricted = RestrictedPod.build(run, name, labels, "aggregate", "aggregator", env, settings, defaults);
        var container = new ContainerBuilder(restricted.getSpec().getContainers().get(0))
                .addNewVolumeMount().withName(TASK_VOLUME).withMountPath(TrainerEnv.DEFAULT_TASK_DIR).withReadOnly(true).endVolumeMount()
                .build();
        Pod pod = new PodBuilder(restricted).editSpec()
                .withContainers(container)
                .addNewVolume().withName(TASK_VOLUME).withNewConfigMap().withName(name).endConfigMap().endVolume()
                .endSpec().build();
        ConfigMap configMap = new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(run.getMetadata().getNamespace())
                .withLabels(labels)
                .withOwnerReferences(restricted.getMetadata().getOwnerReferences())
                .endMetadata()
                .withImmutable(true)
                .withData(Map.of(TrainerEnv.TASK_FILE_NAME, ContractJson.write(task)))
                .build();
        return new AggregationPod(pod, configMap);
    }

    /** The name of the ConfigMap holding the pod's task, if the pod has one (pods of operator versions before it don't). */
    public static Optional<String> taskConfigMap(Pod pod) {
        return Optional.ofNullable(pod.getSpec().getVolumes()).orElse(List.of()).stream()
                .filter(v -> TASK_VOLUME.equals(v.getName()) && v.getConfigMap() != null)
                .map(Volume::getConfigMap).map(c -> c.getName()).findFirst();
    }

    /**
     * The task a pod was started with, from its ConfigMap (or, for a pod from before task ConfigMaps, its FEDTUNE_TASK):
     * a retry repeats it exactly, whatever the trainer pods look like by then.
     */
    public static Optional<AggregateTask> taskOf(Pod pod, Optional<ConfigMap> configMap) {
        Optional<String> fromFile = configMap.map(ConfigMap::getData).map(d -> d.get(TrainerEnv.TASK_FILE_NAME));
        Optional<String> fromEnv = pod.getSpec().getContainers().stream()
                .flatMap(c -> Optional.ofNullable(c.getEnv()).orElse(List.of()).stream())
                .filter(e -> TrainerEnv.TASK.equals(e.getName()) && e.getValue() != null)
                .findFirst().map(e -> e.getValue());
        return fromFile.or(() -> fromEnv).map(json -> ContractJson.read(json, AggregateTask.class));
    }
}
