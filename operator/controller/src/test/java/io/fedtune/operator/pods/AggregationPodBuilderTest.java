package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.operator.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The aggregation task travels in a ConfigMap mounted as a file: 1,000 updates never reach the pod's environment. */
class AggregationPodBuilderTest {

    static AggregateTask task(FederatedRun run, int shards) {
        List<ShardUpdate> updates = IntStream.range(0, shards).mapToObj(i -> new ShardUpdate("site-" + i,
                "s3://fedtune-runs/fedtune-it/demo/round-0001/shards/site-" + i + "/attempt-1/", "0".repeat(64), 128, 1.0, 8)).toList();
        return new AggregateTask("demo", Fixtures.NAMESPACE, 1, 1, new StorageRef("http://s3:9000", null), "s3://models/tiny", null,
                null, null, null, null, updates, run.getSpec().lora, run.getSpec().aggregation, "s3://fedtune-runs/opt/", null, List.of(), 512, 7L,
                1.0, "s3://fedtune-runs/fedtune-it/demo/round-0001/global/");
    }

    @Test
    void thousandUpdatesGoToAMountedConfigMapNotTheEnvironment() {
        FederatedRun run = Fixtures.run("demo", "g", 3);
        run.getMetadata().setUid("uid-1");
        AggregateTask task = task(run, 1000);

        var built = new AggregationPodBuilder("default/image:0").build(run, task);

        var pod = built.pod();
        var c = pod.getSpec().getContainers().get(0);
        assertThat(c.getEnv()).noneMatch(e -> TrainerEnv.TASK.equals(e.getName()));
        assertThat(c.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo(TrainerEnv.TASK_FILE);
            assertThat(e.getValue()).isEqualTo("/etc/fedtune/task/task.json");
        });
        // the whole environment stays far below Linux's 128 KiB per string (and its total argument limit)
        int envBytes = c.getEnv().stream().mapToInt(e -> e.getName().length() + (e.getValue() == null ? 0 : e.getValue().length())).sum();
        assertThat(envBytes).isLessThan(1024);
        assertThat(c.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getMountPath()).isEqualTo(TrainerEnv.DEFAULT_TASK_DIR);
            assertThat(m.getReadOnly()).isTrue();
        });
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(AggregationPodBuilder.taskConfigMap(pod)).contains(pod.getMetadata().getName());

        ConfigMap configMap = built.task();
        assertThat(configMap.getMetadata().getName()).isEqualTo("demo-r1-agg-a1");
        assertThat(configMap.getImmutable()).isTrue();
        assertThat(configMap.getMetadata().getLabels()).isEqualTo(pod.getMetadata().getLabels());
        assertThat(configMap.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-1"));
        String json = configMap.getData().get(TrainerEnv.TASK_FILE_NAME);
        assertThat(json.getBytes(StandardCharsets.UTF_8).length).isGreaterThan(128 * 1024).isLessThan(1024 * 1024);
        assertThat(AggregationPodBuilder.taskOf(pod, Optional.of(configMap)).map(ContractJson::write)).contains(ContractJson.write(task));
    }

    @Test
    void anAggregatorThatAsksForAGpuIsToldToUseOne() {
        FederatedRun run = Fixtures.run("demo", "g", 3);
        var builder = new AggregationPodBuilder("default/image:0");
        assertThat(builder.build(run, task(run, 2)).pod().getSpec().getContainers().get(0).getEnv())
                .noneMatch(e -> TrainerEnv.DEVICE.equals(e.getName()));
        run.getSpec().aggregator = new io.fedtune.api.v1alpha1.PodOverrides();
        run.getSpec().aggregator.resources = new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
                .addToRequests(TrainerEnv.GPU_RESOURCE, new io.fabric8.kubernetes.api.model.Quantity("1")).build();
        assertThat(builder.build(run, task(run, 2)).pod().getSpec().getContainers().get(0).getEnv())
                .anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("FEDTUNE_DEVICE=gpu"));
    }

    @Test
    void aPodFromBeforeTaskConfigMapsStillHasItsTaskRead() {
        FederatedRun run = Fixtures.run("demo", "g", 3);
        AggregateTask task = task(run, 3);
        var pod = new AggregationPodBuilder("i").build(run, task).pod();
        pod.getSpec().setVolumes(new ArrayList<>(pod.getSpec().getVolumes().stream().filter(v -> v.getConfigMap() == null).toList()));
        pod.getSpec().getContainers().get(0).getEnv().add(RestrictedPod.plain(TrainerEnv.TASK, ContractJson.write(task)));
        assertThat(AggregationPodBuilder.taskConfigMap(pod)).isEmpty();
        assertThat(AggregationPodBuilder.taskOf(pod, Optional.empty()).map(ContractJson::write)).contains(ContractJson.write(task));
    }

    @Test
    void imagesReadTheTaskFileFirstThenTheVariable(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("task.json");
        Files.writeString(file, "{\"from\":\"file\"}");
        assertThat(TrainerEnv.task(Map.of(TrainerEnv.TASK_FILE, file.toString(), TrainerEnv.TASK, "{\"from\":\"env\"}")::get))
                .contains("{\"from\":\"file\"}");
        assertThat(TrainerEnv.task(Map.of(TrainerEnv.TASK, "{\"from\":\"env\"}")::get)).contains("{\"from\":\"env\"}");
        assertThat(TrainerEnv.task(Map.<String, String>of()::get)).isEmpty();
    }
}
