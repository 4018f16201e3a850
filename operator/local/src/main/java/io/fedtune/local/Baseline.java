package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The base model's metrics on each of a run's eval sets, scored by its task before any federated round: what the rounds must beat. */
public final class Baseline {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Baseline() {
    }

    /** Runs the trainer's `evaluate` on the local copy of each set; returns every metric of its task, by set name. */
    public static Map<String, Map<String, Double>> of(FederatedRun run, Path trainerJar, Path baseModel, Path dataDir, Path djlCache)
            throws IOException, InterruptedException {
        Map<String, Map<String, Double>> scores = new LinkedHashMap<>();
        for (EvalDataset set : run.getSpec().evaluation.datasets) {
            S3Uri uri = S3Uri.parse(set.uri);
            List<String> cmd = new ArrayList<>(TrainerJarCommand.hostCommand(S3Silo.javaBin(), trainerJar, "evaluate",
                    "--base", baseModel.toString(), "--data", dataDir.resolve(uri.bucket()).resolve(uri.key()).toString(),
                    "--format", set.format.name(), "--max-seq-len", run.getSpec().training.maxSequenceLength.toString(),
                    "--task", (set.task != null ? set.task : EvalTask.LanguageModeling).name()));
            if (set.maxNewTokens != null) {
                cmd.addAll(List.of("--max-new-tokens", set.maxNewTokens.toString()));
            }
            ProcessBuilder pb = new ProcessBuilder(cmd);
            TrainerJarCommand.hostEnvironment(pb, djlCache);
            Process p = ChildProcesses.start(pb.redirectError(ProcessBuilder.Redirect.DISCARD));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("evaluating the base model on " + set.name + " failed: " + out);
            }
            JsonNode result = JSON.readTree(out.substring(out.indexOf('{')));
            Map<String, Double> metrics = new LinkedHashMap<>();
            result.get("metrics").fields().forEachRemaining(m -> metrics.put(m.getKey(), m.getValue().asDouble()));
            scores.put(set.name, metrics);
        }
        return scores;
    }
}
