package io.fedtune.api.contract;

/**
 * Termination message of a trainer container (JSON, under 4 KB). On failure only outcome, reason and message are set.
 *
 * @param outcome        Succeeded or Failed
 * @param reason         CamelCase reason on failure, e.g. CheckpointInvalid, DataEmpty, StorageUnreachable, AccessDenied
 * @param message        what went wrong, for people; never a secret
 * @param shard          ClientShard name
 * @param round          round number
 * @param adapter        s3:// prefix the adapter and manifest were written to
 * @param sha256         SHA-256 of adapter_model.safetensors
 * @param rank           LoRA rank trained
 * @param samples        training samples
 * @param tokens         training tokens seen
 * @param trainLoss      mean training loss over the last steps
 * @param evalLossBefore the global adapter's loss on the shard's eval data before training
 * @param evalLossAfter  the new adapter's loss on the same data
 * @param skippedSteps   steps skipped for a non-finite gradient norm
 * @param seconds        wall time
 * @param tokensPerSecond training throughput
 * @param device         where it trained: {@code cpu} or {@code gpu}
 * @param precision      the dtype it trained in: {@code FP32} or {@code BF16}
 * @param cache          the base model from the cache that outlives pods ({@code FEDTUNE_CACHE_DIR}): {@code hit},
 *                       {@code miss}, or {@code off} (no such cache, or a local base model)
 * @param evalMetric     the metric of the shard's eval data's task ({@code EvalMetric} name, e.g. Loss or Accuracy)
 * @param evalBefore     evalMetric of the global adapter it started from on the shard's eval data
 * @param evalAfter      evalMetric of the new adapter on the same data
 */
public record TrainResult(
        Outcome outcome,
        String reason,
        String message,
        String shard,
        Integer round,
        String adapter,
        String sha256,
        Integer rank,
        Long samples,
        Long tokens,
        Double trainLoss,
        Double evalLossBefore,
        Double evalLossAfter,
        Integer skippedSteps,
        Double seconds,
        Double tokensPerSecond,
        String device,
        String precision,
        String cache,
        String evalMetric,
        Double evalBefore,
        Double evalAfter) {

    public static TrainResult failed(FailureReason reason, String message) {
        return new TrainResult(Outcome.Failed, reason.name(), message, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null);
    }
}
