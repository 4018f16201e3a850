package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.PodOverrides;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The trainer pod of one shard in one round attempt: the shard's own Secret and nothing of other shards. */
public final class TrainerPodBuilder {
    private final PodDefaults defaults;

    public TrainerPodBuilder(String defaultImage) {
        this(PodDefaults.of(defaultImage));
    }

    public TrainerPodBuilder(PodDefaults defaults) {
        this.defaults = defaults;
    }

    /** @param global the adapter the round starts from (its recorded SHA-256 goes into the task), null in round 1 */
    public Pod build(FederatedRun run, ClientShard shard, int round, int attempt, AdapterRef global) {
        String runName = run.getMetadata().getName();
        String shardName = shard.getMetadata().getName();
        TrainTask task = task(run, shard, round, attempt, global);

        List<EnvVar> env = new ArrayList<>();
        env.add(RestrictedPod.plain(TrainerEnv.TASK, ContractJson.write(task)));
        env.addAll(StorageAccess.secretRefs(shard.getSpec().data.credentialsSecret, TrainerEnv.DATA_ACCESS_KEY,
                TrainerEnv.DATA_SECRET_KEY, TrainerEnv.DATA_SESSION_TOKEN));
        PodOverrides settings = PodSettings.merge(run.getSpec().trainer, shard.getSpec().trainer);
        env.addAll(GpuRequest.deviceEnv(settings.resources));

        Map<String, String> labels = Map.of(
                PodLabels.RUN, PodLabels.value(runName),
                PodLabels.ROUND, Integer.toString(round),
                PodLabels.SHARD, PodLabels.value(shardName),
                PodLabels.ROLE, PodLabels.ROLE_TRAINER,
                PodLabels.ATTEMPT, Integer.toString(attempt),
                PodLabels.MANAGED_BY, PodLabels.OPERATOR);
        Pod pod = RestrictedPod.build(run, PodNames.trainer(runName, round, shardName, attempt), labels, "train", "trainer",
                env, settings, defaults);
        pod.getMetadata().setAnnotations(new HashMap<>(Map.of(PodLabels.SHARD, shardName)));
        return pod;
    }

    static TrainTask task(FederatedRun run, ClientShard shard, int round, int attempt, AdapterRef global) {
        FederatedRunSpec spec = run.getSpec();
        String ns = run.getMetadata().getNamespace();
        ObjectLayout layout = layout(run);
        StorageRef storage = new StorageRef(spec.storage.endpoint, spec.storage.region);
        String dataEndpoint = shard.getSpec().data.endpoint != null ? shard.getSpec().data.endpoint : spec.storage.endpoint;
        return new TrainTask(run.getMetadata().getName(), ns, round, shard.getMetadata().getName(), attempt, storage,
                spec.baseModel.uri, spec.baseModel.sha256, global == null ? null : global.uri,
                global == null ? null : global.sha256,
                layout.shardAdapter(round, shard.getMetadata().getName(), attempt),
                loraFor(spec.lora, shard.getSpec().loraRank), spec.training,
                new StorageRef(dataEndpoint, spec.storage.region), shard.getSpec().data.train, shard.getSpec().data.eval, null);
    }

    public static ObjectLayout layout(FederatedRun run) {
        return new ObjectLayout(run.getSpec().storage.bucket, run.getSpec().storage.prefix,
                run.getMetadata().getNamespace(), run.getMetadata().getName());
    }

    public static int rankFor(LoraSpec lora, Integer shardRank) {
        return shardRank != null ? shardRank : lora.rank;
    }

    private static LoraSpec loraFor(LoraSpec lora, Integer shardRank) {
        if (shardRank == null) {
            return lora;
        }
        LoraSpec resolved = ContractJson.mapper().convertValue(lora, LoraSpec.class);
        resolved.rank = shardRank;
        return resolved;
    }
}
