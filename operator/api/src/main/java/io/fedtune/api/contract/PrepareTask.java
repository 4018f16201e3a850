package io.fedtune.api.contract;

/**
 * A run's preparation, once before round 1 (env {@link TrainerEnv#TASK}, role prepare): the server's pod (run
 * credentials, like the aggregation) reads every file directly under the base model's prefix and reports its SHA-256,
 * which the operator records in status.baseModel and passes to every pod that reads the base model.
 *
 * @param run             FederatedRun name
 * @param namespace       its namespace
 * @param attempt         attempt number, from 1
 * @param storage         the run's object storage
 * @param baseModel       s3:// prefix of the Hugging Face checkpoint
 * @param baseModelSha256 SHA-256 that model.safetensors must have (spec.baseModel.sha256), or null
 */
public record PrepareTask(
        String run,
        String namespace,
        int attempt,
        StorageRef storage,
        String baseModel,
        String baseModelSha256) {
}
