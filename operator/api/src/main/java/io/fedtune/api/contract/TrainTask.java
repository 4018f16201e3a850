package io.fedtune.api.contract;

import io.fedtune.api.v1alpha1.DatasetRef;
import io.fedtune.api.v1alpha1.TaskDataset;
import io.fedtune.api.v1alpha1.LocalTrainingSpec;
import io.fedtune.api.v1alpha1.LoraSpec;

/**
 * One round of local training for one shard (env {@link TrainerEnv#TASK}, role train).
 *
 * @param run             FederatedRun name
 * @param namespace       its namespace
 * @param round           round number, from 1
 * @param shard           ClientShard name
 * @param attempt         attempt number within the round, from 1
 * @param storage         the run's object storage (endpoint and region; access: {@code access})
 * @param baseModel       s3:// prefix of the Hugging Face checkpoint
 * @param baseModelSha256 expected SHA-256 of model.safetensors, or null
 * @param globalAdapter   s3:// prefix of the global adapter to start from; null in the first round
 * @param globalAdapterSha256 SHA-256 of its adapter_model.safetensors as the operator recorded it from the aggregation
 *                        that wrote it; the trainer refuses a different file (InputTampered). Null: not checked
 * @param output          s3:// prefix to write this shard's adapter, manifest.json into
 * @param lora            adapter shape; rank already resolved with the shard's override
 * @param training        local training settings
 * @param dataStorage     the shard's data endpoint (credentials: FEDTUNE_DATA_*)
 * @param train           training data
 * @param eval            local eval data with its task, or null to hold out training.evalFraction (LanguageModeling)
 * @param access          presigned URLs for every run-storage file the pod reads or writes (the operator always sends
 *                        them: a trainer pod holds no run-storage credential); null only outside the operator (local
 *                        runs of the CLI with FEDTUNE_STORAGE_* credentials)
 */
public record TrainTask(
        String run,
        String namespace,
        int round,
        String shard,
        int attempt,
        StorageRef storage,
        String baseModel,
        String baseModelSha256,
        String globalAdapter,
        String globalAdapterSha256,
        String output,
        LoraSpec lora,
        LocalTrainingSpec training,
        StorageRef dataStorage,
        DatasetRef train,
        TaskDataset eval,
        PresignedAccess access) {
}
