package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.data.RealTokenizers;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.train.LoraParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    void chatWithoutATemplateFailsNamingTokenizerConfigAndChatTemplate() throws Exception {
        JsonNode failure = run(1, "--base", "base-model", "--prompt", "hi", "--chat").get(0);
        assertThat(failure.path("reason").asText()).isEqualTo("CheckpointInvalid");
        assertThat(failure.path("message").asText()).contains("generate --chat renders each prompt with the base model's chat template")
                .contains("tokenizer_config.json").contains("chat_template").contains("or drop --chat");
    }

    /**
     * A random checkpoint with Qwen3's real tokenizer files whose head always picks {@code <|im_end|>}, which is not
     * its EOS (config.json names {@code <|endoftext|>}): with --chat the template's end-of-turn token ends the completion
     * at once, without it the completion runs to --max-new-tokens.
     */
    @Test
    void chatStopsAtTheTemplatesEndOfTurnTokenThoughItIsNotTheEos() throws Exception {
        int imEnd = 151_645;
        Path base = dir.resolve("qwen3");
        ModelConfig config = new ModelConfig("Qwen2ForCausalLM", 151_936, 16, 32, 1, 2, 1, 8, 1e-6, 1_000_000.0, false, true,
                256, null, 151_643);
        RandomCheckpoint.write(base, config, 5);
        Checkpoint cp = Checkpoint.open(base);
        Map<String, FloatTensor> weights = new LinkedHashMap<>();
        for (String name : Checkpoint.expectedShapes(config).keySet()) {
            weights.put(name, cp.read(name));
        }
        // every embedding the same positive vector, so the final hidden state is close to the final norm's weight,
        // and only <|im_end|>'s head row aligned with it
        java.util.Arrays.fill(weights.get("model.embed_tokens.weight").values(), 1f);
        java.util.Arrays.fill(weights.get("lm_head.weight").values(), imEnd * 16, (imEnd + 1) * 16, 10f);
        SafetensorsWriter.write(base.resolve(Checkpoint.WEIGHTS), weights, Map.of("format", "pt"));
        Files.copy(RealTokenizers.QWEN3.tokenizerJson(), base.resolve(Checkpoint.TOKENIZER));
        Files.copy(RealTokenizers.QWEN3.tokenizerConfig(), base.resolve(ChatTemplate.FILE));

        JsonNode chat = run(0, "--base", base.toString(), "--prompt", "What is 2 + 2?", "--chat", "--max-new-tokens", "5").get(0);
        assertThat(chat.path("stopReason").asText()).isEqualTo("eos");
        assertThat(chat.path("tokens").asInt()).isEqualTo(1);
        JsonNode text = run(0, "--base", base.toString(), "--prompt", "What is 2 + 2?", "--max-new-tokens", "5").get(0);
        assertThat(text.path("stopReason").asText()).isEqualTo("max_new_tokens");
        assertThat(text.path("tokens").asInt()).isEqualTo(5);
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
