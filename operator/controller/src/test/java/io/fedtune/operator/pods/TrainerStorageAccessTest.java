package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ConfigMapKey;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.api.v1alpha1.WebIdentity;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.signing.StorageSigners;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A trainer pod reaches the run's storage only through the URLs in its task: nothing else, nowhere else, not for longer. */
class TrainerStorageAccessTest extends PodBuilderFixture {
    private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
    private static final String ADAPTER = "s3://fedtune-runs/fedtune/g/demo/round-0001/global";
    private final TrainerPodBuilder trainers = new TrainerPodBuilder(DEFAULTS, Fixtures.signers(Clock.fixed(NOW, ZoneOffset.UTC)));
    private final FederatedRunStatus status = status();

    private static FederatedRunStatus status() {
        FederatedRunStatus status = new FederatedRunStatus();
        status.currentRound = 2;
        status.roundStartedAt = "2026-12-01T09:59:30Z";
        status.baseModel = List.of(new ModelFile("config.json", "c".repeat(64), 10L),
                new ModelFile("model.safetensors", "m".repeat(64), 1000L));
        status.latestAdapter = new AdapterRef(ADAPTER, 1, "a".repeat(64), null);
        status.latestAdapter.configSha256 = "f".repeat(64);
        return status;
    }

    @Test
    void aTrainerPodHoldsNoRunStorageCredentialAndTheAggregationPodDoes() {
        run.getSpec().storage.credentialsSecret.sessionTokenKey = "sessionToken";
        run.getSpec().storage.caBundle = new ConfigMapKey("minio-ca", "ca.pem");

        Pod trainer = trainers.build(run, status, shard, 2, 1);

        assertThat(names(trainer)).noneMatch(n -> n.startsWith("FEDTUNE_STORAGE_") && !n.equals(TrainerEnv.STORAGE_CA_FILE)
                && !n.equals(TrainerEnv.STORAGE_RETRY_SECONDS)).doesNotContain(TrainerEnv.AWS_ROLE_ARN, TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE)
                .contains(TrainerEnv.STORAGE_CA_FILE, TrainerEnv.DATA_ACCESS_KEY, TrainerEnv.DATA_SECRET_KEY);
        assertThat(secretsReferenced(trainer)).containsOnly("site-a-data");
        assertThat(aggregator().getSpec().getContainers().get(0).getEnv()).extracting(EnvVar::getName)
                .contains(TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY, TrainerEnv.STORAGE_SESSION_TOKEN);

        run.getSpec().storage.credentialsSecret = null;
        run.getSpec().storage.webIdentity = new WebIdentity();
        run.getSpec().storage.webIdentity.roleArn = "arn:aws:iam::1:role/r";
        Pod webIdentityTrainer = trainers.build(run, status, shard, 2, 1);
        assertThat(webIdentityTrainer.getSpec().getVolumes()).extracting(Volume::getName)
                .doesNotContain(StorageAccess.TOKEN_VOLUME).contains(StorageAccess.CA_VOLUME);
        assertThat(names(webIdentityTrainer)).doesNotContain(TrainerEnv.AWS_ROLE_ARN, TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE);
        assertThat(aggregator().getSpec().getVolumes()).extracting(Volume::getName).contains(StorageAccess.TOKEN_VOLUME);
    }

    @Test
    void theTaskCarriesGetUrlsForTheListedInputsAndPutUrlsOnlyUnderItsOwnPrefix() {
        TrainTask task = task(trainers.build(run, status, shard, 2, 1));
        PresignedAccess access = task.access();
        String storage = Fixtures.STORAGE_ENDPOINT + "/";

        assertThat(access.baseModel()).containsOnlyKeys("config.json", "model.safetensors");
        assertThat(access.baseModel().get("model.safetensors").sha256()).isEqualTo("m".repeat(64));
        assertThat(access.baseModel().get("config.json").url()).startsWith(storage + "models/tiny/config.json?");
        assertThat(access.globalAdapter()).containsOnlyKeys("adapter_config.json", "adapter_model.safetensors");
        assertThat(access.globalAdapter().get("adapter_model.safetensors").sha256()).isEqualTo("a".repeat(64));
        assertThat(access.globalAdapter().get("adapter_config.json").sha256()).isEqualTo("f".repeat(64));
        assertThat(access.globalAdapter().get("adapter_model.safetensors").url())
                .startsWith(storage + "fedtune-runs/fedtune/g/demo/round-0001/global/adapter_model.safetensors?");
        assertThat(access.output()).containsOnlyKeys("adapter_config.json", "adapter_model.safetensors", "manifest.json");
        String own = storage + task.output().substring("s3://".length()) + "/";
        assertThat(own).endsWith("/round-0002/shards/site-a/attempt-1/");
        access.output().forEach((name, url) -> assertThat(url).startsWith(own + name + "?"));
        for (String url : urls(access)) {
            assertThat(query(url)).containsEntry("X-Amz-SignedHeaders", "host").containsKey("X-Amz-Signature")
                    .containsEntry("X-Amz-Credential", "fixture-signer-key%2F20261201%2Fus-east-1%2Fs3%2Faws4_request");
        }
        assertThat(ContractJson.write(task)).doesNotContain("fixture-signer-secret");
    }

    @Test
    void inRoundOneWithoutRecordedFilesThereIsNothingToGetButTheOutputs() {
        FederatedRunStatus first = new FederatedRunStatus();
        first.roundStartedAt = NOW.toString();

        PresignedAccess access = task(trainers.build(run, first, shard, 1, 1)).access();

        assertThat(access.baseModel()).isEmpty();
        assertThat(access.globalAdapter()).isNull();
        assertThat(access.output()).hasSize(3);
    }

    @Test
    void everyUrlExpiresAtTheRoundsDeadline() {
        run.getSpec().participation.roundTimeout = "30m";

        PresignedAccess access = task(trainers.build(run, status, shard, 2, 1)).access();

        Instant deadline = Instant.parse("2026-12-01T10:29:30Z");
        assertThat(Instant.parse(access.expires())).isEqualTo(deadline);
        for (String url : urls(access)) {
            Map<String, String> q = query(url);
            Instant signed = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC)
                    .parse(q.get("X-Amz-Date"), Instant::from);
            assertThat(signed).isEqualTo(NOW);
            assertThat(signed.plusSeconds(Long.parseLong(q.get("X-Amz-Expires")))).isEqualTo(deadline);
        }

        run.getSpec().participation.roundTimeout = "200h";
        assertThat(query(urls(task(trainers.build(run, status, shard, 2, 1)).access()).get(0)))
                .as("SigV4 signs for at most 7 days").containsEntry("X-Amz-Expires", "604800");
        run.getSpec().participation.roundTimeout = "30m";
        status.roundStartedAt = "2026-11-30T00:00:00Z";
        assertThat(query(urls(task(trainers.build(run, status, shard, 2, 1)).access()).get(0)))
                .as("a deadline already passed: at least a second").containsEntry("X-Amz-Expires", "1");
    }

    @Test
    void withoutASignerForTheRunsEndpointNoTrainerPodIsBuilt() {
        TrainerPodBuilder unsigned = new TrainerPodBuilder(DEFAULTS, StorageSigners.none());

        assertThat(unsigned.signs(run)).isFalse();
        assertThat(trainers.signs(run)).isTrue();
        assertThatThrownBy(() -> unsigned.build(run, status, shard, 2, 1)).hasMessageContaining("no storage signer for "
                + Fixtures.STORAGE_ENDPOINT);
    }

    private static TrainTask task(Pod pod) {
        String json = pod.getSpec().getContainers().get(0).getEnv().stream().filter(e -> TrainerEnv.TASK.equals(e.getName()))
                .map(EnvVar::getValue).findFirst().orElseThrow();
        return ContractJson.read(json, TrainTask.class);
    }

    private static List<String> names(Pod pod) {
        return pod.getSpec().getContainers().get(0).getEnv().stream().map(EnvVar::getName).toList();
    }

    private static List<String> secretsReferenced(Pod pod) {
        return pod.getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getValueFrom() != null)
                .map(e -> e.getValueFrom().getSecretKeyRef().getName()).distinct().toList();
    }

    private static List<String> urls(PresignedAccess access) {
        List<String> urls = new java.util.ArrayList<>();
        access.baseModel().values().forEach(g -> urls.add(g.url()));
        if (access.globalAdapter() != null) {
            access.globalAdapter().values().forEach(g -> urls.add(g.url()));
        }
        urls.addAll(access.output().values());
        return urls;
    }

    private static Map<String, String> query(String url) {
        return Arrays.stream(URI.create(url).getRawQuery().split("&")).map(p -> p.split("=", 2))
                .collect(Collectors.toMap(p -> p[0], p -> p[1]));
    }
}
