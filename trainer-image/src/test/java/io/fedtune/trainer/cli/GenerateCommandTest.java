package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.train.LoraParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GenerateCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsOneJsonLinePerPromptFromTheOptionsAndTheFile() throws Exception {
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"In the beginning\", \"completion\": \"ignored\"}\n\n");
        List<JsonNode> lines = run(0, "--base", "base-model", "--prompt", "And God said", "--prompts", prompts.toString(),
                "--max-new-tokens", "6", "--temperature", "0.8", "--seed", "3");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).path("prompt").asText()).isEqualTo("And God said");
        assertThat(lines.get(1).path("prompt").asText()).isEqualTo("In the beginning");
        for (JsonNode line : lines) {
            assertThat(line.path("completion").isTextual()).isTrue();
            assertThat(line.path("tokens").asInt()).isBetween(1, 6);
            assertThat(line.path("stopReason").asText()).isIn("eos", "max_new_tokens");
        }
        assertThat(run(0, "--base", "base-model", "--prompt", "And God said", "--prompts", prompts.toString(),
                "--max-new-tokens", "6", "--temperature", "0.8", "--seed", "3")).as("same seed, same output").isEqualTo(lines);
    }

    @Test
    void readsAnAdapterInThePeftLayoutTheTrainerWrites() throws Exception {
        ModelConfig base = ModelConfig.read(Path.of("base-model"));
        LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, LoraTarget.SEPARATE, "base-model"), base, 1);
        java.util.Random r = new java.util.Random(2);
        lora.tensors().forEach((name, t) -> {
            for (int i = 0; i < t.values().length; i++) {
                t.values()[i] = LoraParameters.isA(name) ? t.values()[i] : (float) (r.nextGaussian() * 0.1);
            }
        });
        lora.toAdapter().write(dir.resolve("adapter"));
        String[] args = {"--base", "base-model", "--prompt", "And God said", "--max-new-tokens", "12"};
        JsonNode alone = run(0, args).get(0);
        String[] withAdapter = java.util.Arrays.copyOf(args, args.length + 2);
        withAdapter[args.length] = "--adapter";
        withAdapter[args.length + 1] = dir.resolve("adapter").toString();
        assertThat(run(0, withAdapter).get(0).path("completion").asText()).isNotEqualTo(alone.path("completion").asText());
    }

    @Test
    void refusesChatPromptsNamingTheIssue() throws Exception {
        JsonNode failure = run(1, "--base", "base-model", "--prompt", "hi", "--chat").get(0);
        assertThat(failure.path("reason").asText()).isEqualTo("InvalidTask");
        assertThat(failure.path("message").asText()).contains("--chat is not supported yet").contains("issue 10");
    }

    private static List<JsonNode> run(int exit, String... args) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = new CommandLine(new GenerateCommand()).execute(args);
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertThat(code).as(out).isEqualTo(exit);
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new java.util.ArrayList<>();
        for (String line : out.strip().split("\n")) {
            lines.add(json.readTree(line));
        }
        return lines;
    }
}
