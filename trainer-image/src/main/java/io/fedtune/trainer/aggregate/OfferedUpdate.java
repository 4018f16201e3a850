package io.fedtune.trainer.aggregate;

import java.nio.file.Path;

/**
 * A shard's update as offered to the round, already on local disk.
 *
 * @param shard   ClientShard name
 * @param dir     directory with adapter_config.json, adapter_model.safetensors and (optionally) manifest.json
 * @param sha256  SHA-256 of adapter_model.safetensors as the trainer reported it
 * @param samples training samples behind the update
 * @param weight  the shard's spec.weight multiplier
 * @param rank    the LoRA rank the shard reported
 */
public record OfferedUpdate(String shard, Path dir, String sha256, long samples, double weight, int rank) {
}
