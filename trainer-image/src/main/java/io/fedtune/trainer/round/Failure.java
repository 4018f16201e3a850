package io.fedtune.trainer.round;

import io.fedtune.trainer.adapter.AdapterMismatchException;
import io.fedtune.trainer.data.DataException;
import io.fedtune.trainer.data.TokenizerMismatchException;
import io.fedtune.trainer.model.CheckpointInvalidException;
import io.fedtune.trainer.safetensors.SafetensorsFormatException;
import io.fedtune.trainer.storage.StorageException;
import io.fedtune.trainer.train.TrainingDivergedException;

/** Maps what went wrong to the contract's CamelCase reason (trainer-image/CONTRACT.md). */
public record Failure(String reason, String message) {

    public static Failure of(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String reason;
        if (e instanceof CheckpointInvalidException) {
            reason = "CheckpointInvalid";
        } else if (e instanceof TokenizerMismatchException) {
            reason = "TokenizerMismatch";
        } else if (e instanceof DataException d) {
            reason = d.isEmpty() ? "DataEmpty" : "DataMalformed";
        } else if (e instanceof AdapterMismatchException || e instanceof SafetensorsFormatException) {
            reason = "AdapterMismatch";
        } else if (e instanceof StorageException s) {
            reason = switch (s.kind()) {
                case ACCESS_DENIED -> "AccessDenied";
                case UNREACHABLE -> "StorageUnreachable";
                case NOT_FOUND -> "InvalidTask";
            };
        } else if (e instanceof TrainingDivergedException) {
            reason = "TrainingDiverged";
        } else if (e instanceof IllegalArgumentException) {
            reason = "InvalidTask";
        } else {
            reason = "Internal";
            message = e.getClass().getSimpleName() + ": " + message;
        }
        return new Failure(reason, message);
    }
}
