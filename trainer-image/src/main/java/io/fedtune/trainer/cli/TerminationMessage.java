package io.fedtune.trainer.cli;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainerEnv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The JSON termination message of every role, kept under Kubernetes' 4 KB by shortening what is for people first
 * (messages, then refusal details); the manifest keeps the full text.
 */
final class TerminationMessage {
    private TerminationMessage() {
    }

    static String of(TrainResult result) {
        String json = ContractJson.write(result);
        int limit = TrainerEnv.TERMINATION_MESSAGE_LIMIT - 96;
        if (bytes(json) <= limit || result.message() == null) {
            return json;
        }
        String msg = result.message();
        int cut = Math.max(0, msg.length() - (bytes(json) - limit) - 16);
        return ContractJson.write(new TrainResult(result.outcome(), result.reason(), msg.substring(0, cut) + " [truncated]",
                result.shard(), result.round(), result.adapter(), result.sha256(), result.rank(), result.samples(),
                result.tokens(), result.trainLoss(), result.evalLossBefore(), result.evalLossAfter(), result.skippedSteps(),
                result.seconds(), result.tokensPerSecond(), result.device(), result.precision(), result.cache(), result.evalMetric(),
                result.evalBefore(), result.evalAfter()));
    }

    static String of(AggregateResult result) {
        String json = ContractJson.write(result);
        if (fits(json)) {
            return json;
        }
        // first shorten refusal messages, then drop them (reasons stay), then the accepted list
        for (int limit : new int[] {120, 40, 0}) {
            json = ContractJson.write(withRefusals(result, shorten(result.refused(), limit), result.accepted()));
            if (fits(json)) {
                return json;
            }
        }
        json = ContractJson.write(withRefusals(result, shorten(result.refused(), 0), null));
        if (fits(json)) {
            return json;
        }
        // then the other sets' scores, last first: evalMetric and evalScore carry the primary set's ranking figure
        if (result.evalScores() != null) {
            List<String> sets = new java.util.ArrayList<>(result.evalScores().keySet());
            for (int keep = sets.size() - 1; keep >= 0; keep--) {
                java.util.Map<String, java.util.Map<String, Double>> kept = new java.util.LinkedHashMap<>();
                for (String s : sets.subList(0, keep)) {
                    kept.put(s, result.evalScores().get(s));
                }
                json = ContractJson.write(withScores(withRefusals(result, shorten(result.refused(), 0), null),
                        kept.isEmpty() ? null : kept));
                if (fits(json)) {
                    return json;
                }
            }
        }
        String message = result.message() == null ? "" : result.message();
        return ContractJson.write(new AggregateResult(result.outcome(), result.reason(),
                message.substring(0, Math.min(message.length(), 1000)), result.round(), result.adapter(), result.sha256(),
                null, null, result.evalLoss(), null, result.regressed(), result.truncationEnergy(), result.epsilon(),
                result.seconds(), result.device(), result.precision(), result.optimizerStateSha256(), result.configSha256(),
                result.evalMetric(), result.evalScore(), null));
    }

    static String of(PrepareResult result) {
        PrepareResult r = fitting(result);
        String json = ContractJson.write(r);
        return fits(json) ? json : ContractJson.write(new PrepareResult(r.outcome(), r.reason(), shortened(r.message()),
                r.files(), r.seconds(), r.cache()));
    }

    /**
     * A preparation whose file list does not fit the message becomes a failure that says so: the operator cannot record
     * what it cannot read, and a prefix of many files is more than a checkpoint.
     */
    static PrepareResult fitting(PrepareResult result) {
        String json = ContractJson.write(result);
        if (fits(json) || result.files() == null) {
            return result;
        }
        return PrepareResult.failed(FailureReason.CheckpointInvalid, "the base model prefix holds " + result.files().size()
                + " files, and their SHA-256 list (" + bytes(json) + " bytes) does not fit the " + TrainerEnv.TERMINATION_MESSAGE_LIMIT
                + "-byte termination message: keep only the checkpoint's files (config.json, the weights, the tokenizer) under the prefix");
    }

    static String of(PublishResult result) {
        String json = ContractJson.write(result);
        if (fits(json)) {
            return json;
        }
        return ContractJson.write(new PublishResult(result.outcome(), result.reason(), shortened(result.message()),
                result.adapter(), result.sha256(), result.files(), result.seconds()));
    }

    private static String shortened(String message) {
        return message == null || message.length() <= 1000 ? message : message.substring(0, 1000) + " [truncated]";
    }

    /** The message of an out-of-memory failure, encoded before any failure so it can be written without a free heap. */
    private static final byte[] OUT_OF_MEMORY = ContractJson.write(TrainResult.failed(
            io.fedtune.api.contract.FailureReason.OutOfMemory, Failure.OUT_OF_MEMORY)).getBytes(StandardCharsets.UTF_8);
    private static final byte[] AGGREGATE_OUT_OF_MEMORY = ContractJson.write(AggregateResult.failed(
            io.fedtune.api.contract.FailureReason.OutOfMemory, Failure.OUT_OF_MEMORY)).getBytes(StandardCharsets.UTF_8);

    private static final byte[] PREPARE_OUT_OF_MEMORY = ContractJson.write(PrepareResult.failed(
            FailureReason.OutOfMemory, Failure.OUT_OF_MEMORY)).getBytes(StandardCharsets.UTF_8);
    private static final byte[] PUBLISH_OUT_OF_MEMORY = ContractJson.write(PublishResult.failed(
            FailureReason.OutOfMemory, Failure.OUT_OF_MEMORY)).getBytes(StandardCharsets.UTF_8);

    /** The train result's message in memory; the pre-encoded out-of-memory one when even that cannot be built. */
    static byte[] train(TrainResult result) {
        try {
            return of(result).getBytes(StandardCharsets.UTF_8);
        } catch (OutOfMemoryError e) {
            return OUT_OF_MEMORY;
        }
    }

    static byte[] prepare(PrepareResult result) {
        try {
            return of(result).getBytes(StandardCharsets.UTF_8);
        } catch (OutOfMemoryError e) {
            return PREPARE_OUT_OF_MEMORY;
        }
    }

    static byte[] publish(PublishResult result) {
        try {
            return of(result).getBytes(StandardCharsets.UTF_8);
        } catch (OutOfMemoryError e) {
            return PUBLISH_OUT_OF_MEMORY;
        }
    }

    static byte[] aggregate(AggregateResult result) {
        try {
            return of(result).getBytes(StandardCharsets.UTF_8);
        } catch (OutOfMemoryError e) {
            return AGGREGATE_OUT_OF_MEMORY;
        }
    }

    /**
     * Writes the message where the pod's terminationMessagePath is (never on scratch, so a full scratch volume cannot
     * stop it), last, and echoes it on stdout; null writes no file.
     */
    static void write(Path file, byte[] json) {
        if (file != null) {
            try {
                Files.write(file, json);
            } catch (IOException e) {
                System.err.println("cannot write the termination message to " + file + ": " + e.getMessage());
            }
        }
        System.out.write(json, 0, json.length);
        System.out.println();
    }

    private static int bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8).length;
    }

    private static boolean fits(String json) {
        return bytes(json) <= TrainerEnv.TERMINATION_MESSAGE_LIMIT;
    }

    private static List<Refusal> shorten(List<Refusal> refused, int limit) {
        if (refused == null) {
            return null;
        }
        return refused.stream().map(r -> new Refusal(r.shard(), r.reason(), limit == 0 ? null
                : r.message() == null || r.message().length() <= limit ? r.message() : r.message().substring(0, limit) + "…"))
                .toList();
    }

    private static AggregateResult withScores(AggregateResult r, java.util.Map<String, java.util.Map<String, Double>> scores) {
        return new AggregateResult(r.outcome(), r.reason(), r.message(), r.round(), r.adapter(), r.sha256(), r.accepted(),
                r.refused(), r.evalLoss(), r.evalLosses(), r.regressed(), r.truncationEnergy(), r.epsilon(), r.seconds(),
                r.device(), r.precision(), r.optimizerStateSha256(), r.configSha256(), r.evalMetric(), r.evalScore(), scores);
    }

    private static AggregateResult withRefusals(AggregateResult r, List<Refusal> refused, List<String> accepted) {
        return new AggregateResult(r.outcome(), r.reason(), r.message(), r.round(), r.adapter(), r.sha256(), accepted,
                refused, r.evalLoss(), r.evalLosses(), r.regressed(), r.truncationEnergy(), r.epsilon(), r.seconds(),
                r.device(), r.precision(), r.optimizerStateSha256(), r.configSha256(), r.evalMetric(), r.evalScore(), r.evalScores());
    }
}
