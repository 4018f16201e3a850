package io.fedtune.api.contract;

import java.util.Map;

/**
 * Termination message of a publishing container (JSON, under 4 KB). On failure only outcome, reason and message are set.
 *
 * @param outcome Succeeded or Failed
 * @param reason  on failure, e.g. InputTampered, InputMissing, AccessDenied
 * @param message for people
 * @param adapter s3:// prefix published (the task's destination)
 * @param sha256  SHA-256 of the published adapter_model.safetensors, read back after the copy
 * @param files   SHA-256 of each file published, by name (manifest.json included)
 * @param seconds wall time
 */
public record PublishResult(
        Outcome outcome,
        String reason,
        String message,
        String adapter,
        String sha256,
        Map<String, String> files,
        Double seconds) {

    public static PublishResult failed(FailureReason reason, String message) {
        return new PublishResult(Outcome.Failed, reason.name(), message, null, null, null, null);
    }
}
