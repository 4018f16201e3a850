package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.PodOverrides;
import io.fedtune.operator.round.Durations;
import io.fedtune.operator.signing.Presigner;
import io.fedtune.operator.signing.StorageSigners;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trainer pod of one shard in one round attempt: the shard's own Secret, nothing of other shards, and for the run's
 * storage no credential, only URLs presigned for exactly the files it reads and writes (its task's {@code access}).
 */
public final class TrainerPodBuilder {
    /** What a trainer reads of the global adapter it starts from (Adapter.read in trainer-image). */
    static final List<String> GLOBAL_ADAPTER_FILES = List.of(ObjectLayout.ADAPTER_CONFIG, ObjectLayout.ADAPTER_WEIGHTS);
    /** What a trainer writes under its output prefix (ShardTraining.OUTPUT_FILES in trainer-image). */
    static final List<String> OUTPUT_FILES = List.of(ObjectLayout.ADAPTER_CONFIG, ObjectLayout.ADAPTER_WEIGHTS,
            ObjectLayout.MANIFEST);

    private final PodDefaults defaults;
    private final StorageSigners signers;

    public TrainerPodBuilder(String defaultImage, StorageSigners signers) {
        this(PodDefaults.of(defaultImage), signers);
    }

    public TrainerPodBuilder(PodDefaults defaults, StorageSigners signers) {
        this.defaults = defaults;
        this.signers = signers;
    }

    /** Whether this operator can presign for the run's storage (else the run is refused with SignerMissing). */
    public boolean signs(FederatedRun run) {
        return signers.signs(run.getSpec().storage.endpoint);
    }

    /**
     * @param status the run's status as this reconcile sees it: the round's start time (its URLs expire at the round's
     *               deadline), the recorded base model files, and the adapter the round starts from
     *               ({@code latestAdapter}, null in round 1)
     */
    public Pod build(FederatedRun run, FederatedRunStatus status, ClientShard shard, int round, int attempt) {
        String runName = run.getMetadata().getName();
        String shardName = shard.getMetadata().getName();
        TrainTask task = task(run, shard, round, attempt, status.latestAdapter, access(run, status, shardName, round, attempt));

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
                env, settings, defaults, StorageAccess.trainer(run.getSpec().storage));
        pod.getMetadata().setAnnotations(new HashMap<>(Map.of(PodLabels.SHARD, shardName)));
        return pod;
    }

    static TrainTask task(FederatedRun run, ClientShard shard, int round, int attempt, AdapterRef global, PresignedAccess access) {
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
                new StorageRef(dataEndpoint, spec.storage.region), shard.getSpec().data.train, shard.getSpec().data.eval, access);
    }

    /**
     * GET for each recorded base model file and the global adapter's files, PUT for this attempt's own outputs; all
     * expire at the round's deadline (its start, else now, plus spec.participation.roundTimeout).
     */
    PresignedAccess access(FederatedRun run, FederatedRunStatus status, String shard, int round, int attempt) {
        FederatedRunSpec spec = run.getSpec();
        Presigner presigner = signers.forEndpoint(spec.storage.endpoint).orElseThrow(() -> new IllegalStateException(
                "no storage signer for " + spec.storage.endpoint));
        Instant deadline = (status.roundStartedAt != null ? Instant.parse(status.roundStartedAt) : presigner.now())
                .plus(Durations.parse(spec.participation.roundTimeout != null ? spec.participation.roundTimeout : "30m"));
        Instant expires = null;
        Map<String, PresignedAccess.Get> baseModel = new LinkedHashMap<>();
        S3Uri base = S3Uri.parse(spec.baseModel.uri);
        for (ModelFile file : status.baseModel == null ? List.<ModelFile>of() : status.baseModel) {
            Presigner.Signed get = presigner.presign(Presigner.Method.GET, base.child(file.name), deadline);
            baseModel.put(file.name, new PresignedAccess.Get(get.url(), file.sha256));
            expires = get.expires();
        }
        Map<String, PresignedAccess.Get> global = null;
        AdapterRef adapter = status.latestAdapter;
        if (adapter != null) {
            global = new LinkedHashMap<>();
            S3Uri at = S3Uri.parse(adapter.uri);
            Map<String, String> recorded = adapter.recordedSha256();
            for (String name : GLOBAL_ADAPTER_FILES) {
                Presigner.Signed get = presigner.presign(Presigner.Method.GET, at.child(name), deadline);
                global.put(name, new PresignedAccess.Get(get.url(), recorded.get(name)));
                expires = get.expires();
            }
        }
        Map<String, String> output = new LinkedHashMap<>();
        S3Uri out = S3Uri.parse(layout(run).shardAdapter(round, shard, attempt));
        for (String name : OUTPUT_FILES) {
            Presigner.Signed put = presigner.presign(Presigner.Method.PUT, out.child(name), deadline);
            output.put(name, put.url());
            expires = put.expires();
        }
        return new PresignedAccess(expires.toString(), baseModel, global, output);
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
