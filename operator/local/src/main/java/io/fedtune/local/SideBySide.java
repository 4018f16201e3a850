package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What the base model and the run's published adapter write after the same prompts, greedy: the run's result read
 * as text. Made after the run by the trainer's {@code generate}, as a plain child process on the silo's own files.
 *
 * @param adapter        the published adapter (status.result), null when skipped before it was known
 * @param maxNewTokens   the most tokens generated per prompt
 * @param rows           one per prompt, in the prompts file's order; empty when skipped
 * @param skipped        why there is no comparison, or null
 */
public record SideBySide(AdapterRef adapter, int maxNewTokens, List<Row> rows, String skipped) {
    /** New tokens per prompt: enough for the rest of a verse. */
    public static final int MAX_NEW_TOKENS = 24;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One prompt and what each model made of it. */
    public record Row(String prompt, String base, String adapter) {
    }

    public static SideBySide skipped(String why) {
        return new SideBySide(null, MAX_NEW_TOKENS, List.of(), why);
    }

    /** The prompts of a file, one per line; blank lines and lines starting with # are left out. */
    static List<String> prompts(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    /**
     * Generates with the base model and with status.result, read from the run's silo folder on disk; the adapter's
     * weights must be those the result's SHA-256 names.
     */
    public static SideBySide of(FederatedRun run, Path promptsFile, Path trainerJar, Path baseModel, Path siloObjects,
                                Path djlCache) {
        if (run == null || run.getStatus() == null || run.getStatus().result == null) {
            return skipped("the run published no adapter (phase " + (run == null || run.getStatus() == null ? "unknown"
                    : run.getStatus().phase) + ")");
        }
        AdapterRef result = run.getStatus().result;
        if (!Files.isRegularFile(promptsFile)) {
            return new SideBySide(result, MAX_NEW_TOKENS, List.of(), "no prompts file at " + promptsFile);
        }
        try {
            List<String> prompts = prompts(promptsFile);
            if (prompts.isEmpty()) {
                return new SideBySide(result, MAX_NEW_TOKENS, List.of(), promptsFile + " has no prompts");
            }
            S3Uri uri = S3Uri.parse(result.uri);
            Path adapter = siloObjects.resolve(uri.bucket()).resolve(uri.key());
            String sha = sha256(adapter.resolve(ObjectLayout.ADAPTER_WEIGHTS));
            if (result.sha256 != null && !result.sha256.equals(sha)) {
                return new SideBySide(result, MAX_NEW_TOKENS, List.of(), adapter + " holds weights with SHA-256 " + sha
                        + ", not the " + result.sha256 + " status.result names");
            }
            List<String> base = generate(trainerJar, baseModel, null, prompts, djlCache);
            List<String> tuned = generate(trainerJar, baseModel, adapter, prompts, djlCache);
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                rows.add(new Row(prompts.get(i), base.get(i), tuned.get(i)));
            }
            return new SideBySide(result, MAX_NEW_TOKENS, rows, null);
        } catch (IOException e) {
            return new SideBySide(result, MAX_NEW_TOKENS, List.of(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new SideBySide(result, MAX_NEW_TOKENS, List.of(), "interrupted while generating");
        }
    }

    /** The completions, in prompt order, of one `generate` over all prompts. */
    private static List<String> generate(Path trainerJar, Path baseModel, Path adapter, List<String> prompts, Path djlCache)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("generate", "--base", baseModel.toString(),
                "--max-new-tokens", Integer.toString(MAX_NEW_TOKENS)));
        if (adapter != null) {
            args.addAll(List.of("--adapter", adapter.toString()));
        }
        prompts.forEach(p -> args.addAll(List.of("--prompt", p)));
        ProcessBuilder pb = new ProcessBuilder(TrainerJarCommand.hostCommand(S3Silo.javaBin(), trainerJar, args.toArray(String[]::new)));
        TrainerJarCommand.hostEnvironment(pb, djlCache);
        Process p = ChildProcesses.start(pb.redirectError(ProcessBuilder.Redirect.DISCARD));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String who = adapter == null ? "the base model" : "the adapter " + adapter;
        if (p.waitFor() != 0) {
            throw new IOException("generating with " + who + " failed (exit " + p.exitValue() + "): " + out.strip());
        }
        List<String> completions = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("{")) {
                JsonNode c = JSON.readTree(line);
                completions.add(c.path("completion").asText());
            }
        }
        if (completions.size() != prompts.size()) {
            throw new IOException("generating with " + who + " gave " + completions.size() + " completions for "
                    + prompts.size() + " prompts");
        }
        return completions;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
