package io.fedtune.api.contract;

import io.fedtune.api.v1alpha1.ModelFile;
import java.util.List;

/**
 * Termination message of a preparation container (JSON, under 4 KB). On failure only outcome, reason and message are
 * set.
 *
 * @param outcome Succeeded or Failed
 * @param reason  on failure, e.g. CheckpointInvalid (model.safetensors is not spec.baseModel.sha256, or no checkpoint
 *                there), InputMissing, AccessDenied
 * @param message for people
 * @param files   every file directly under the base model's prefix, with its SHA-256 and size
 * @param seconds wall time
 * @param cache   the base model from the cache that outlives pods: hit, miss or off
 */
public record PrepareResult(
        Outcome outcome,
        String reason,
        String message,
        List<ModelFile> files,
        Double seconds,
        String cache) {

    public static PrepareResult failed(FailureReason reason, String message) {
        return new PrepareResult(Outcome.Failed, reason.name(), message, null, null, null);
    }
}
