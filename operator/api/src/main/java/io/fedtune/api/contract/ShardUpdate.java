package io.fedtune.api.contract;

/**
 * A shard's adapter offered for aggregation.
 *
 * @param shard   ClientShard name
 * @param adapter s3:// prefix holding adapter_config.json, adapter_model.safetensors and manifest.json
 * @param sha256  SHA-256 of adapter_model.safetensors as the trainer reported it
 * @param samples training samples behind the update
 * @param weight  the shard's spec.weight multiplier
 * @param rank    LoRA rank the shard trained with
 */
public record ShardUpdate(String shard, String adapter, String sha256, long samples, double weight, int rank) {
}
