package io.fedtune.trainer.cli;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainerEnv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the JSON termination message, kept under Kubernetes' 4 KB limit by shortening the message for people. */
final class TerminationMessage {
    private TerminationMessage() {
    }

    static String json(TrainResult result) {
        String json = ContractJson.write(result);
        int limit = TrainerEnv.TERMINATION_MESSAGE_LIMIT - 96;
        if (json.getBytes(StandardCharsets.UTF_8).length <= limit || result.message() == null) {
            return json;
        }
        String msg = result.message();
        int cut = Math.max(0, msg.length() - (json.getBytes(StandardCharsets.UTF_8).length - limit) - 16);
        return ContractJson.write(new TrainResult(result.outcome(), result.reason(), msg.substring(0, cut) + " [truncated]",
                result.shard(), result.round(), result.adapter(), result.sha256(), result.rank(), result.samples(),
                result.tokens(), result.trainLoss(), result.evalLossBefore(), result.evalLossAfter(), result.skippedSteps(),
                result.seconds(), result.tokensPerSecond()));
    }

    static void write(Path file, TrainResult result) {
        if (file == null) {
            return;
        }
        try {
            Files.writeString(file, json(result));
        } catch (IOException e) {
            System.err.println("cannot write the termination message to " + file + ": " + e.getMessage());
        }
    }
}
