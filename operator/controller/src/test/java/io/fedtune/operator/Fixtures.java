package io.fedtune.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.BaseModelSpec;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ClientShardSpec;
import io.fedtune.api.v1alpha1.DatasetRef;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.SecretKeys;
import io.fedtune.api.v1alpha1.ShardDataSpec;
import io.fedtune.api.v1alpha1.StorageSpec;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.signing.StorageSigners;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Runs, shards and look-ups shared by the operator tests. Each test uses its own run and shard names and labels. */
public final class Fixtures {
    public static final String NAMESPACE = "fedtune-it";
    private static FakeKubelet kubelet;

    private Fixtures() {
    }

    public static synchronized FakeKubelet kubelet(KubernetesClient client) {
        if (kubelet == null) {
            kubelet = new FakeKubelet(client);
        }
        return kubelet;
    }

    /** The endpoint of {@link #run}'s storage, which the test profile's fedtune.signers signs for. */
    public static final String STORAGE_ENDPOINT = "http://s3.storage:9000";
    /** The signing credential of the fixtures' signer (test resources), as the chart would mount it. */
    public static final String SIGNER_DIR = "src/test/resources/storage-signer";

    /** A signer for {@link #STORAGE_ENDPOINT}, as the test profile configures the operator. */
    public static StorageSigners signers(Clock clock) {
        return StorageSigners.of(List.of(new StorageSigners.Signer(STORAGE_ENDPOINT, null, SIGNER_DIR)), clock);
    }

    public static StorageSigners signers() {
        return signers(Clock.systemUTC());
    }

    public static FederatedRun run(String name, String group, int rounds) {
        FederatedRun run = new FederatedRun();
        run.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NAMESPACE).build());
        FederatedRunSpec spec = new FederatedRunSpec();
        spec.baseModel = new BaseModelSpec();
        spec.baseModel.uri = "s3://models/tiny";
        spec.rounds = rounds;
        spec.storage = new StorageSpec();
        spec.storage.endpoint = STORAGE_ENDPOINT;
        spec.storage.bucket = "fedtune-runs";
        spec.storage.credentialsSecret = new SecretKeys("run-storage");
        spec.participation.shardSelector = new LabelSelectorBuilder().withMatchLabels(Map.of("group", group)).build();
        spec.participation.retryBackoff = "100ms";
        spec.participation.roundTimeout = "30s";
        run.setSpec(spec);
        return run;
    }

    /** Creates the named shards of a group (the label the run's selector matches). */
    public static void shards(KubernetesClient client, String group, String... names) {
        for (String n : names) {
            client.resource(shard(n, group)).create();
        }
    }

    public static ClientShard shard(String name, String group) {
        ClientShard shard = new ClientShard();
        shard.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NAMESPACE).withLabels(Map.of("group", group)).build());
        ClientShardSpec spec = new ClientShardSpec();
        spec.data = new ShardDataSpec();
        spec.data.credentialsSecret = new SecretKeys(name + "-data");
        spec.data.train = new DatasetRef("s3://" + name + "-silo/train.jsonl", io.fedtune.api.v1alpha1.DataFormat.Text);
        shard.setSpec(spec);
        return shard;
    }

    public static FederatedRun get(KubernetesClient client, String run) {
        return client.resources(FederatedRun.class).inNamespace(NAMESPACE).withName(run).get();
    }

    public static Optional<io.fabric8.kubernetes.api.model.Condition> condition(FederatedRun run, String type) {
        return run == null || run.getStatus() == null ? Optional.empty()
                : run.getStatus().conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    public static boolean conditionIs(KubernetesClient client, String run, String type, String status, String reason) {
        return condition(get(client, run), type).map(c -> status.equals(c.getStatus()) && (reason == null || reason.equals(c.getReason())))
                .orElse(false);
    }

    /** Waits for a condition; on timeout fails with the run's status, so a failure says where the run stood. */
    public static void awaitCondition(KubernetesClient client, String run, String type, String status, String reason) {
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> conditionIs(client, run, type, status, reason));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            FederatedRun latest = get(client, run);
            throw new AssertionError(type + "=" + status + " (" + reason + ") not reached; spec: " + io.fedtune.api.contract.ContractJson.write(latest == null ? null : latest.getSpec()) + " status: "
                    + io.fedtune.api.contract.ContractJson.write(latest == null ? null : latest.getStatus()), e);
        }
    }

    public static List<Pod> pods(KubernetesClient client, String run) {
        return client.pods().inNamespace(NAMESPACE).withLabel(PodLabels.RUN, PodLabels.value(run)).list().getItems();
    }

    public static List<Event> events(KubernetesClient client, String name) {
        return client.v1().events().inNamespace(NAMESPACE).list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }

    public static List<String> eventReasons(KubernetesClient client, String name) {
        return events(client, name).stream().map(Event::getReason).toList();
    }
}
