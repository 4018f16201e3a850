package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.ConfigMapKey;
import io.fedtune.api.v1alpha1.PodOverrides;
import io.fedtune.api.v1alpha1.WebIdentity;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Default requests, scratch size, pull secrets, runtime class, and how pods reach the run's storage. */
class PodResourcesAndStorageTest extends PodBuilderFixture {
    @Test
    void podsWithoutResourcesGetTheDefaultRequestsAndASizedScratchVolume() {
        for (Pod pod : List.of(trainer(), aggregator())) {
            Container c = pod.getSpec().getContainers().get(0);
            assertThat(c.getResources().getRequests()).containsEntry("cpu", new Quantity("2")).containsEntry("memory", new Quantity("8Gi"))
                    .containsEntry("ephemeral-storage", new Quantity("30Gi"));
            assertThat(c.getResources().getLimits()).isNullOrEmpty();
            assertThat(scratch(pod).getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("30Gi"));
        }
    }

    @Test
    void whatTheSpecSetsWinsAndALimitAloneKeepsItsResourceFreeOfADefaultRequest() {
        run.getSpec().trainer = new PodOverrides();
        run.getSpec().trainer.scratchSize = "100Gi";
        run.getSpec().trainer.resources = new ResourceRequirementsBuilder().addToRequests("cpu", new Quantity("4")).build();
        shard.getSpec().trainer = new PodOverrides();
        shard.getSpec().trainer.resources = new ResourceRequirementsBuilder().addToLimits("memory", new Quantity("2Gi"))
                .addToLimits("nvidia.com/gpu", new Quantity("1")).build();

        Pod pod = trainer();
        var resources = pod.getSpec().getContainers().get(0).getResources();
        // the shard's resources replace the run's (field by field merge): its memory limit, the default cpu request
        assertThat(resources.getLimits()).containsEntry("memory", new Quantity("2Gi")).containsKey("nvidia.com/gpu");
        assertThat(resources.getRequests()).doesNotContainKey("memory").containsEntry("cpu", new Quantity("2"))
                .containsEntry("ephemeral-storage", new Quantity("100Gi"));
        assertThat(scratch(pod).getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("100Gi"));
    }

    @Test
    void imagePullSecretsAndRuntimeClassMergeLikeTheOtherOverrides() {
        run.getSpec().trainer = new PodOverrides();
        run.getSpec().trainer.imagePullSecrets = List.of(new LocalObjectReference("run-registry"));
        run.getSpec().trainer.runtimeClassName = "gvisor";
        shard.getSpec().trainer = new PodOverrides();
        shard.getSpec().trainer.runtimeClassName = "nvidia";
        Pod pod = trainer();
        assertThat(pod.getSpec().getImagePullSecrets()).extracting(LocalObjectReference::getName).containsExactly("run-registry");
        assertThat(pod.getSpec().getRuntimeClassName()).isEqualTo("nvidia");

        shard.getSpec().trainer.imagePullSecrets = List.of(new LocalObjectReference("site-registry"));
        assertThat(trainer().getSpec().getImagePullSecrets()).extracting(LocalObjectReference::getName).containsExactly("site-registry");

        run.getSpec().aggregator = new PodOverrides();
        run.getSpec().aggregator.imagePullSecrets = List.of(new LocalObjectReference("agg-registry"));
        run.getSpec().aggregator.runtimeClassName = "kata";
        assertThat(aggregator().getSpec().getImagePullSecrets()).extracting(LocalObjectReference::getName).containsExactly("agg-registry");
        assertThat(aggregator().getSpec().getRuntimeClassName()).isEqualTo("kata");
    }

    @Test
    void theCaBundleReachesBothRolesTheRunsSessionTokenOnlyTheAggregation() {
        run.getSpec().storage.credentialsSecret.sessionTokenKey = "sessionToken";
        run.getSpec().storage.caBundle = new ConfigMapKey("minio-ca", "ca.pem");
        shard.getSpec().data.credentialsSecret.sessionTokenKey = "token";

        Pod trainer = trainer();
        assertThat(secretRef(trainer, TrainerEnv.STORAGE_SESSION_TOKEN)).as("a trainer holds no run-storage credential").isEmpty();
        assertThat(secretRef(aggregator(), TrainerEnv.STORAGE_SESSION_TOKEN)).contains("run-storage/sessionToken");
        assertThat(secretRef(trainer, TrainerEnv.DATA_SESSION_TOKEN)).contains("site-a-data/token");
        for (Pod pod : List.of(trainer, aggregator())) {
            assertThat(env(pod, TrainerEnv.STORAGE_CA_FILE)).contains("/etc/fedtune/storage-ca/ca.pem");
            Volume ca = volume(pod, StorageAccess.CA_VOLUME);
            assertThat(ca.getConfigMap().getName()).isEqualTo("minio-ca");
            assertThat(ca.getConfigMap().getItems()).singleElement().satisfies(i -> assertThat(i.getKey()).isEqualTo("ca.pem"));
            assertThat(pod.getSpec().getContainers().get(0).getVolumeMounts())
                    .anySatisfy(m -> {
                        assertThat(m.getName()).isEqualTo(StorageAccess.CA_VOLUME);
                        assertThat(m.getReadOnly()).isTrue();
                    });
        }
        assertThat(secretRef(aggregator(), TrainerEnv.DATA_SESSION_TOKEN)).isEmpty();
    }

    @Test
    void bothRolesGetTheStorageRetryTimeInSecondsCappedByTheRoundTimeout() {
        run.getSpec().participation.roundTimeout = "30m";
        for (Pod pod : List.of(trainer(), aggregator())) {
            assertThat(env(pod, TrainerEnv.STORAGE_RETRY_SECONDS)).as("default 5m").contains("300");
        }
        run.getSpec().participation.storageRetryTimeout = "1m30s";
        for (Pod pod : List.of(trainer(), aggregator())) {
            assertThat(env(pod, TrainerEnv.STORAGE_RETRY_SECONDS)).contains("90");
        }
        run.getSpec().participation.storageRetryTimeout = null;
        run.getSpec().participation.roundTimeout = "2m";
        for (Pod pod : List.of(trainer(), aggregator())) {
            assertThat(env(pod, TrainerEnv.STORAGE_RETRY_SECONDS)).as("never past the round timeout").contains("120");
        }
    }

    @Test
    void withoutASessionTokenKeyThereIsNoSessionTokenVariable() {
        assertThat(env(trainer(), TrainerEnv.STORAGE_SESSION_TOKEN)).isEmpty();
        assertThat(secretRef(trainer(), TrainerEnv.STORAGE_SESSION_TOKEN)).isEmpty();
        assertThat(env(trainer(), TrainerEnv.STORAGE_CA_FILE)).isEmpty();
    }

    @Test
    void webIdentityReplacesTheStorageKeysWithAProjectedTokenAndARoleInTheAggregationPodOnly() {
        run.getSpec().storage.credentialsSecret = null;
        run.getSpec().storage.webIdentity = new WebIdentity();
        run.getSpec().storage.webIdentity.roleArn = "arn:aws:iam::123456789012:role/fedtune";
        run.getSpec().trainer = new PodOverrides();
        run.getSpec().trainer.serviceAccountName = "fedtune-run";

        Pod trainer = trainer();
        assertThat(varsOf(trainer)).extracting(EnvVar::getName)
                .doesNotContain(TrainerEnv.AWS_ROLE_ARN, TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE);
        assertThat(trainer.getSpec().getVolumes()).extracting(Volume::getName).doesNotContain(StorageAccess.TOKEN_VOLUME);
        for (Pod pod : List.of(aggregator())) {
            assertThat(secretRef(pod, TrainerEnv.STORAGE_ACCESS_KEY)).isEmpty();
            assertThat(env(pod, TrainerEnv.AWS_ROLE_ARN)).contains("arn:aws:iam::123456789012:role/fedtune");
            assertThat(env(pod, TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE)).contains("/var/run/secrets/fedtune/storage-token/token");
            var token = volume(pod, StorageAccess.TOKEN_VOLUME).getProjected().getSources().get(0).getServiceAccountToken();
            assertThat(token.getAudience()).isEqualTo("sts.amazonaws.com");
            assertThat(token.getPath()).isEqualTo("token");
            assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
        }
        assertThat(trainer().getSpec().getServiceAccountName()).isEqualTo("fedtune-run");
        // the shard's own data keys stay on its trainer
        assertThat(secretRef(trainer(), TrainerEnv.DATA_ACCESS_KEY)).contains("site-a-data/accessKeyId");
    }

    private static Volume scratch(Pod pod) {
        return volume(pod, RestrictedPod.SCRATCH_VOLUME);
    }

    private static Volume volume(Pod pod, String name) {
        return pod.getSpec().getVolumes().stream().filter(v -> name.equals(v.getName())).findFirst().orElseThrow();
    }

    private static Optional<String> env(Pod pod, String name) {
        return vars(pod, name).map(EnvVar::getValue).filter(v -> v != null);
    }

    private static Optional<String> secretRef(Pod pod, String name) {
        return vars(pod, name).filter(e -> e.getValueFrom() != null)
                .map(e -> e.getValueFrom().getSecretKeyRef().getName() + "/" + e.getValueFrom().getSecretKeyRef().getKey());
    }

    private static java.util.stream.Stream<EnvVar> varsOf(Pod pod) {
        return pod.getSpec().getContainers().get(0).getEnv().stream();
    }

    private static Optional<EnvVar> vars(Pod pod, String name) {
        return varsOf(pod).filter(e -> name.equals(e.getName())).findFirst();
    }
}
