package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The base model and the published adapter complete the same prompts through the trainer's own `generate`. */
class SideBySideTest {
    private static final String RESULT = "s3://runs/team/r/final";

    @Test
    void theBaseModelAndTheResultEachCompleteEveryPromptWithTheTrainer(@TempDir Path tmp) throws Exception {
        RepoLayout layout = RepoLayout.find();
        Path objects = tmp.resolve("objects");
        Path adapter = objects.resolve("runs/team/r/final");
        Path djlCache = layout.root().resolve("operator/local/target/djl-cache-side-by-side");
        train(layout, adapter, djlCache);
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "# a comment\nAnd the LORD spake unto Moses, saying,\n\n"
                + "Then Jesus six days before the passover came to Bethany,\n");

        SideBySide g = SideBySide.of(succeeded(sha256(adapter.resolve("adapter_model.safetensors"))), prompts,
                layout.trainerJar(), layout.baseModel(), objects, djlCache);

        assertThat(g.skipped()).isNull();
        assertThat(g.adapter().uri).isEqualTo(RESULT);
        assertThat(g.rows()).extracting(SideBySide.Row::prompt).containsExactly("And the LORD spake unto Moses, saying,",
                "Then Jesus six days before the passover came to Bethany,");
        assertThat(g.rows()).allSatisfy(r -> {
            assertThat(r.base()).isNotBlank();
            assertThat(r.adapter()).isNotBlank();
        });
    }

    @Test
    void weightsOtherThanTheResultNamesAreNotRun(@TempDir Path tmp) throws Exception {
        Path adapter = Files.createDirectories(tmp.resolve("objects/runs/team/r/final"));
        Files.writeString(adapter.resolve("adapter_model.safetensors"), "replaced");
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "In the beginning\n");

        SideBySide g = SideBySide.of(succeeded("ab12"), prompts, tmp.resolve("no-trainer.jar"), tmp, tmp.resolve("objects"), tmp);

        assertThat(g.rows()).isEmpty();
        assertThat(g.skipped()).isEqualTo(adapter + " holds weights with SHA-256 " + sha256(adapter.resolve("adapter_model.safetensors"))
                + ", not the ab12 status.result names");
    }

    private static FederatedRun succeeded(String sha) {
        FederatedRun run = new FederatedRun();
        run.setStatus(new FederatedRunStatus());
        run.getStatus().phase = Phase.Succeeded;
        run.getStatus().result = new AdapterRef(RESULT, 1, sha, 4.2);
        return run;
    }

    /** Two steps on a few quickstart chapters: an adapter in the PEFT layout, as the run publishes one. */
    private static void train(RepoLayout layout, Path out, Path djlCache) throws Exception {
        Path data = layout.root().resolve("examples/quickstart/data/shard-a/train.jsonl");
        ProcessBuilder pb = new ProcessBuilder(TrainerJarCommand.hostCommand(S3Silo.javaBin(), layout.trainerJar(), "train",
                "--base", layout.baseModel().toString(), "--data", data.toString(), "--out", out.toString(), "--steps", "2",
                "--batch-size", "2", "--max-seq-len", "32", "--lr", "0.01")).redirectErrorStream(true);
        TrainerJarCommand.hostEnvironment(pb, djlCache);
        Process p = ChildProcesses.start(pb);
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(log).isZero();
        assertThat(List.of("adapter_model.safetensors", "adapter_config.json")).allSatisfy(f -> assertThat(out.resolve(f)).exists());
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
