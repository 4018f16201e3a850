package io.fedtune.trainer.aggregate;

import java.nio.file.Path;

/**
 * A shard update that passed every check of its own (the round-wide norm bound comes after).
 *
 * @param offered        what the shard offered
 * @param weights        its adapter_model.safetensors
 * @param rank           its LoRA rank
 * @param scale          its lora_alpha / r
 * @param norm           L2 norm of its update relative to the previous global adapter
 * @param frozenADigest  SHA-256 over its A factors' values, for FFA's check that A stayed shared
 */
public record VerifiedUpdate(OfferedUpdate offered, Path weights, int rank, double scale, double norm, String frozenADigest) {
}
