package io.fedtune.api.contract;

import java.util.Map;

/**
 * Publishing a succeeded run's result (env {@link TrainerEnv#TASK}, role publish): the server's pod copies the best
 * global adapter to the run's {@code final/} prefix, checking each file against the SHA-256 the operator recorded, and
 * writes a manifest.json there.
 *
 * @param run         FederatedRun name
 * @param namespace   its namespace
 * @param attempt     attempt number, from 1
 * @param storage     the run's object storage
 * @param source      s3:// prefix of the best global adapter (status.bestAdapter)
 * @param round       the round that wrote it
 * @param sourceSha256 SHA-256 of each of its files as recorded (adapter_model.safetensors at least); a different file
 *                    is InputTampered and nothing is published
 * @param evalLoss    its primary eval loss, for the manifest; null without eval sets
 * @param baseModel   s3:// prefix of the base checkpoint, for the manifest
 * @param destination s3:// prefix to publish into ({@link ObjectLayout#finalAdapter})
 * @param card        what the published README.md model card says
 */
public record PublishTask(
        String run,
        String namespace,
        int attempt,
        StorageRef storage,
        String source,
        int round,
        Map<String, String> sourceSha256,
        Double evalLoss,
        String baseModel,
        String destination,
        ModelCard card) {
}
