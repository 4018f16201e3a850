package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.trainer.adapter.AdapterMismatchException;
import io.fedtune.trainer.aggregate.RoundFailed;
import io.fedtune.trainer.data.DataException;
import io.fedtune.trainer.data.TokenizerMismatchException;
import io.fedtune.trainer.model.CheckpointInvalidException;
import io.fedtune.trainer.model.GpuUnavailableException;
import io.fedtune.trainer.safetensors.SafetensorsFormatException;
import io.fedtune.trainer.storage.InputTamperedException;
import io.fedtune.trainer.storage.LocalDisk;
import io.fedtune.trainer.storage.Redaction;
import io.fedtune.trainer.storage.SmallFile;
import io.fedtune.trainer.storage.StorageException;
import io.fedtune.trainer.train.TrainingDivergedException;

/** What went wrong in any command, as the contract's reason and a message for people (trainer-image/CONTRACT.md). */
record Failure(FailureReason reason, String message) {

    static Failure of(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        FailureReason reason;
        Throwable full = LocalDisk.full(e);
        java.nio.file.FileSystemException unwritable = full == null ? LocalDisk.unwritable(e) : null;
        if (outOfMemory(e)) {
            reason = FailureReason.OutOfMemory;
            message = outOfMemoryMessage();
        } else if (full != null) {
            reason = FailureReason.ScratchFull;
            String path = LocalDisk.path(full);
            message = "no space left on device" + (path == null ? "" : " writing " + path)
                    + (full == e ? "" : " (" + message + ")");
        } else if (unwritable != null) {
            reason = FailureReason.ScratchUnwritable;
            String path = LocalDisk.path(unwritable);
            message = "cannot write " + (path == null ? "the scratch directory" : path) + ": "
                    + unwritable.getClass().getSimpleName() + (unwritable.getReason() == null ? "" : " " + unwritable.getReason())
                    + (unwritable == e ? "" : " (" + message + ")");
        } else if (e instanceof SmallFile.TooLarge) {
            reason = FailureReason.InvalidTask;
        } else if (e instanceof RoundFailed r) {
            reason = r.reason();
        } else if (e instanceof InputTamperedException) {
            reason = FailureReason.InputTampered;
        } else if (e instanceof CheckpointInvalidException) {
            reason = FailureReason.CheckpointInvalid;
        } else if (e instanceof TokenizerMismatchException) {
            reason = FailureReason.TokenizerMismatch;
        } else if (e instanceof DataException d) {
            reason = d.isEmpty() ? FailureReason.DataEmpty : FailureReason.DataMalformed;
        } else if (e instanceof AdapterMismatchException || e instanceof SafetensorsFormatException) {
            reason = FailureReason.AdapterMismatch;
        } else if (e instanceof StorageException s) {
            reason = switch (s.kind()) {
                case ACCESS_DENIED -> FailureReason.AccessDenied;
                case UNREACHABLE -> FailureReason.StorageUnreachable;
                case DATA_UNREACHABLE -> FailureReason.DataUnreachable;
                case NOT_FOUND -> FailureReason.InputMissing;
            };
        } else if (e instanceof TrainingDivergedException) {
            reason = FailureReason.TrainingDiverged;
        } else if (e instanceof GpuUnavailableException) {
            reason = FailureReason.GpuUnavailable;
        } else if (e instanceof IllegalArgumentException) {
            reason = FailureReason.InvalidTask;
        } else {
            reason = FailureReason.Internal;
            message = e.getClass().getSimpleName() + ": " + message;
        }
        // a presigned URL's query is a credential: no message carries one, whatever produced it (a JSON parser's excerpt)
        return new Failure(reason, Redaction.of(message));
    }

    /** For a command run by hand: the failure as one JSON line on stdout and one line on stderr; the exit code. */
    int report(String command) {
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("outcome", "Failed");
        out.put("reason", reason.name());
        out.put("message", message);
        System.out.println(out);
        System.err.println(command + " failed: " + reason + ": " + message);
        return 1;
    }

    private static boolean outOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return true;
            }
        }
        return false;
    }

    /** Built before any failure, so the message exists even when the heap does not have room for it. */
    static final String OUT_OF_MEMORY = "the JVM ran out of heap (OutOfMemoryError) at -Xmx"
            + Runtime.getRuntime().maxMemory() / (1024 * 1024) + "m; give the container more memory";

    static String outOfMemoryMessage() {
        return OUT_OF_MEMORY;
    }
}
