package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.PodOverrides;
import io.fedtune.operator.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerPodBuilderTest {

    @Test
    void trainerPodKeepsTheContractAndTheRestrictedStandard() {
        FederatedRun run = Fixtures.run("demo", "g", 3);
        run.getMetadata().setUid("uid-1");
        run.getSpec().trainer = new PodOverrides();
        run.getSpec().trainer.image = "run/image:1";
        run.getSpec().trainer.nodeSelector = Map.of("pool", "default");
        ClientShard shard = Fixtures.shard("site-a", "g");
        shard.getSpec().loraRank = 4;
        shard.getSpec().trainer = new PodOverrides();
        shard.getSpec().trainer.resources = new ResourceRequirementsBuilder().addToLimits("nvidia.com/gpu", new Quantity("1")).build();
        shard.getSpec().trainer.nodeSelector = Map.of("pool", "gpu-a");

        FederatedRunStatus status = new FederatedRunStatus();
        status.latestAdapter = new AdapterRef("s3://b/g", 1, "ab".repeat(32), null);
        Pod pod = new TrainerPodBuilder("default/image:0", Fixtures.signers()).build(run, status, shard, 2, 1);

        assertThat(pod.getMetadata().getName()).isEqualTo("demo-r2-site-a-a1");
        assertThat(pod.getMetadata().getLabels()).containsEntry(PodLabels.ROUND, "2").containsEntry(PodLabels.SHARD, "site-a")
                .containsEntry(PodLabels.ROLE, "trainer").containsEntry(PodLabels.ATTEMPT, "1");
        assertThat(pod.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
            assertThat(o.getUid()).isEqualTo("uid-1");
            assertThat(o.getController()).isTrue();
        });
        var spec = pod.getSpec();
        assertThat(spec.getAutomountServiceAccountToken()).isFalse();
        assertThat(spec.getRestartPolicy()).isEqualTo("Never");
        assertThat(spec.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(spec.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(spec.getNodeSelector()).containsEntry("pool", "gpu-a");
        var c = spec.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo("run/image:1");
        assertThat(c.getArgs()).containsExactly("train");
        assertThat(c.getResources().getLimits()).containsKey("nvidia.com/gpu");
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
        assertThat(c.getVolumeMounts()).singleElement().satisfies(m -> assertThat(m.getMountPath()).isEqualTo("/scratch"));
        assertThat(c.getEnv()).filteredOn(e -> e.getValueFrom() != null)
                .extracting(e -> e.getValueFrom().getSecretKeyRef().getName())
                .as("the shard's own data Secret only: no run-storage credential")
                .containsExactlyInAnyOrder("site-a-data", "site-a-data");
        TrainTask task = ContractJson.read(env(pod, TrainerEnv.TASK), TrainTask.class);
        assertThat(task.lora().rank).isEqualTo(4);
        assertThat(task.globalAdapter()).isEqualTo("s3://b/g");
        assertThat(task.globalAdapterSha256()).as("the SHA-256 the operator recorded for the adapter the round starts from")
                .isEqualTo("ab".repeat(32));
        assertThat(task.output()).endsWith("/fedtune-it/demo/round-0002/shards/site-a/attempt-1");
        assertThat(env(pod, TrainerEnv.ROLE)).isEqualTo("train");
        assertThat(env(pod, TrainerEnv.DEVICE)).as("the container asks for nvidia.com/gpu").isEqualTo("gpu");
        Pod cpu = new TrainerPodBuilder("default/image:0", Fixtures.signers()).build(run, new FederatedRunStatus(),
                Fixtures.shard("site-b", "g"), 2, 1);
        assertThat(cpu.getSpec().getContainers().get(0).getEnv()).noneMatch(e -> TrainerEnv.DEVICE.equals(e.getName()));
        assertThat(run.getSpec().lora.rank).isEqualTo(8);
    }

    @Test
    void longNamesAreCutWithAHashAndStayDistinct() {
        String shard = "a-very-long-shard-name-that-belongs-to-a-site-with-a-long-name";
        String one = PodNames.trainer("long-run-name", 12, shard, 1);
        String two = PodNames.trainer("long-run-name", 12, shard, 2);
        assertThat(one).hasSizeLessThanOrEqualTo(63).isNotEqualTo(two).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
        assertThat(PodNames.aggregator("r", 3, 1)).isEqualTo("r-r3-agg-a1");
    }

    private static String env(Pod pod, String name) {
        return pod.getSpec().getContainers().get(0).getEnv().stream().filter(e -> name.equals(e.getName()))
                .map(EnvVar::getValue).findFirst().orElseThrow();
    }
}
