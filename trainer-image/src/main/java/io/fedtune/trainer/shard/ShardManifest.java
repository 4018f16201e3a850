package io.fedtune.trainer.shard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fedtune.trainer.eval.TaskScore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A trainer's {@code manifest.json}, written next to the adapter it describes (trainer-image/CONTRACT.md).
 *
 * @param device    {@code cpu} or {@code gpu}
 * @param precision {@code FP32} or {@code BF16}
 * @param baseQuantization how the base's projection weights were held: {@code None}, {@code Int8} or {@code Int4}
 * @param cache     {@code hit}, {@code miss} or {@code off}: the base model from the cache that outlives pods
 * @param demonstrations in-context examples per training sequence on average (0 with inContextExamples 0)
 * @param evalMetric the eval data's ranking metric ({@code EvalMetric} name), evalBefore and evalAfter its values for
 *                   the starting adapter and the new one
 * @param evalScoresBefore every metric of the eval data's task for the starting adapter, also per context-length class
 * @param evalScoresAfter  the same for the new adapter
 */
public record ShardManifest(String shard, int round, long samples, long tokens, Double evalLossBefore, Double evalLossAfter,
                       long evalTokens, double trainLoss, int steps, int skippedSteps, int rank, double seconds,
                       double tokensPerSecond, String device, String precision,
                       String baseQuantization, String cache, Map<String, String> files,
                       double demonstrations, String evalMetric, Double evalBefore, Double evalAfter,
                       TaskScore evalScoresBefore, TaskScore evalScoresAfter) {
    public static final String FILE = io.fedtune.api.contract.ObjectLayout.MANIFEST;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    public void write(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), JSON.writeValueAsString(this) + "\n");
    }

    public static ShardManifest read(Path dir) throws IOException {
        return JSON.readValue(dir.resolve(FILE).toFile(), ShardManifest.class);
    }
}
