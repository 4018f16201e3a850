package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.ModelCache;
import io.fedtune.api.v1alpha1.PodOverrides;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** spec.trainer.cache and spec.aggregator.cache: a PersistentVolumeClaim for the base model that outlives pods. */
class ModelCachePodTest extends PodBuilderFixture {
    private static PodOverrides cache(String claim) {
        PodOverrides settings = new PodOverrides();
        settings.cache = new ModelCache(claim);
        return settings;
    }

    @Test
    void aCachedPodMountsTheClaimReadWriteNamesItAndCanWriteItAsTheImagesGroup() {
        run.getSpec().trainer = cache("models-pool-a");
        run.getSpec().aggregator = cache("models-server");

        for (Pod pod : List.of(trainer(), aggregator())) {
            assertThat(claim(pod)).isPresent();
            Container c = pod.getSpec().getContainers().get(0);
            assertThat(c.getVolumeMounts()).filteredOn(m -> m.getName().equals(RestrictedPod.CACHE_VOLUME)).singleElement()
                    .satisfies(m -> {
                        assertThat(m.getMountPath()).isEqualTo("/var/cache/fedtune");
                        assertThat(m.getReadOnly()).as("the trainer downloads into it").isNotEqualTo(Boolean.TRUE);
                        assertThat(m.getSubPath()).isNull();
                    });
            assertThat(env(pod, TrainerEnv.CACHE_DIR)).contains(TrainerEnv.DEFAULT_CACHE_DIR);
            assertThat(env(pod, TrainerEnv.WORK_DIR)).contains("/scratch");
            var security = pod.getSpec().getSecurityContext();
            assertThat(security.getFsGroup()).as("the images' uid and gid 10001").isEqualTo(10001L);
            assertThat(security.getFsGroupChangePolicy()).isEqualTo("OnRootMismatch");
            // still the restricted Pod Security Standard: a PVC volume and fsGroup are allowed, nothing else loosened
            assertThat(security.getRunAsNonRoot()).isTrue();
            assertThat(security.getRunAsUser()).isNull();
            assertThat(security.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
            assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
            assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
            assertThat(pod.getSpec().getVolumes()).allSatisfy(v -> assertThat(v.getHostPath()).isNull());
        }
        assertThat(volume(trainer(), RestrictedPod.CACHE_VOLUME).orElseThrow().getPersistentVolumeClaim().getClaimName())
                .isEqualTo("models-pool-a");
        assertThat(volume(aggregator(), RestrictedPod.CACHE_VOLUME).orElseThrow().getPersistentVolumeClaim().getClaimName())
                .isEqualTo("models-server");
    }

    @Test
    void withoutACachePodsAreAsBefore() {
        run.getSpec().trainer = new PodOverrides();
        run.getSpec().trainer.scratchSize = "50Gi";
        for (Pod pod : List.of(trainer(), aggregator())) {
            assertThat(volume(pod, RestrictedPod.CACHE_VOLUME)).isEmpty();
            assertThat(pod.getSpec().getVolumes()).noneMatch(v -> v.getPersistentVolumeClaim() != null);
            assertThat(pod.getSpec().getContainers().get(0).getVolumeMounts()).noneMatch(m -> m.getMountPath().startsWith("/var/cache"));
            assertThat(env(pod, TrainerEnv.CACHE_DIR)).isEmpty();
            assertThat(pod.getSpec().getSecurityContext().getFsGroup()).isNull();
            assertThat(pod.getSpec().getSecurityContext().getFsGroupChangePolicy()).isNull();
        }
    }

    @Test
    void aShardsCacheReplacesTheRunsAndTheAggregatorTakesOnlyItsOwn() {
        run.getSpec().trainer = cache("models-pool-a");
        run.getSpec().trainer.image = "run/image:1";
        assertThat(claim(trainer())).contains("models-pool-a");
        assertThat(volume(aggregator(), RestrictedPod.CACHE_VOLUME)).as("spec.trainer is not the aggregator's").isEmpty();

        // a site whose GPU pool has its own claim: merged field by field, the run's image stays
        shard.getSpec().trainer = cache("models-pool-b");
        Pod pod = trainer();
        assertThat(claim(pod)).contains("models-pool-b");
        assertThat(pod.getSpec().getContainers().get(0).getImage()).isEqualTo("run/image:1");
        assertThat(pod.getSpec().getVolumes()).filteredOn(v -> v.getPersistentVolumeClaim() != null).hasSize(1);

        // a shard that sets other fields keeps the run's cache; a shard alone can ask for one too
        shard.getSpec().trainer = new PodOverrides();
        shard.getSpec().trainer.priorityClassName = "gpu-high";
        assertThat(claim(trainer())).contains("models-pool-a");
        run.getSpec().trainer = null;
        shard.getSpec().trainer = cache("models-site-a");
        assertThat(claim(trainer())).contains("models-site-a");
        assertThat(env(trainer(), TrainerEnv.CACHE_DIR)).contains("/var/cache/fedtune");
    }

    private static Optional<String> claim(Pod pod) {
        return volume(pod, RestrictedPod.CACHE_VOLUME).map(v -> v.getPersistentVolumeClaim().getClaimName());
    }

    private static Optional<Volume> volume(Pod pod, String name) {
        return pod.getSpec().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst();
    }

    private static Optional<String> env(Pod pod, String name) {
        return pod.getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue)
                .findFirst();
    }
}
