package io.fedtune.trainer.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.cli.FedtuneTrainer;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.DeviceRequest;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.model.RopeScaling;
import io.fedtune.trainer.model.TinyModels;
import io.fedtune.trainer.pretrain.ByteLevelBpe;
import io.fedtune.trainer.train.LocalTraining;
import io.fedtune.trainer.train.LoraParameters;
import io.fedtune.trainer.train.TrainingOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The PEFT interop tier: per family, a tiny random checkpoint, a fedtune adapter trained on it for a few steps (B
 * non-zero), fedtune's {@code evaluate} loss on a small text set; then bench/peft_interop.py loads the checkpoint with
 * transformers' AutoModelForCausalLM and the adapter directory, as fedtune wrote it, with PeftModel.from_pretrained and
 * computes the loss on the same token ids. They must agree to 1e-4 relative. Runs wherever torch, transformers and
 * peft can be had (see {@link PeftPython}); fails under CI=true where they cannot, is skipped loudly elsewhere.
 */
class PeftInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] WORDS = {"the", "river", "runs", "to", "sea", "and", "light", "was", "upon", "waters",
            "good", "day", "stone", "bread", "wind", "over", "field"};
    private static final Map<String, Double> FEDTUNE = new LinkedHashMap<>();
    private static JsonNode peft;

    /** Every family fedtune supports, in its departures from Llama that touch the adapter or the loss. */
    static Map<String, ModelConfig> families(int vocab) {
        Map<String, ModelConfig> f = new LinkedHashMap<>();
        f.put("llama3-rope-scaling", TinyModels.llama(vocab).withRopeScaling(RopeScaling.llama3(8, 1, 4, 32)));
        f.put("mistral-sliding-window", TinyModels.mistral(vocab).withSlidingWindow(4, 0));
        f.put("qwen2-bias-tied-sliding", TinyModels.qwen2Tied(vocab).withSlidingWindow(4, 1));
        f.put("qwen3", TinyModels.qwen3(vocab, false, false));
        f.put("gemma2-softcaps", TinyModels.gemma2(vocab, 1.0, 1.5));
        f.put("gemma3", TinyModels.gemma3(vocab, null, null));
        f.put("phi3-fused", TinyModels.phi3(vocab));
        f.put("phi4-mini-partial-rotary", TinyModels.phi4Mini(vocab));
        return f;
    }

    static List<String> familyNames() {
        return List.copyOf(families(300).keySet());
    }

    @BeforeAll
    static void trainEvaluateAndLoadIntoPeft(@TempDir Path dir) throws Exception {
        String python = PeftPython.require();
        Path train = dir.resolve("train.jsonl");
        Path eval = dir.resolve("eval.jsonl");
        Files.write(train, records(40, new Random(1)));
        Files.write(eval, records(6, new Random(2)));
        ByteLevelBpe bpe = ByteLevelBpe.train(String.join("\n", Files.readAllLines(train)), 300);
        ArrayNode cases = JSON.createArrayNode();
        long seed = 11;
        for (Map.Entry<String, ModelConfig> family : families(bpe.vocabSize()).entrySet()) {
            Path base = dir.resolve(family.getKey());
            RandomCheckpoint.write(base, family.getValue(), seed++, 0.1);
            bpe.write(base.resolve("tokenizer.json"));
            Path adapter = dir.resolve(family.getKey() + "-adapter");
            ArrayNode sequences;
            try (BaseModel model = BaseModel.open(base, Placement.of("FP32", DeviceRequest.CPU))) {
                List<TokenSequence> data = model.chunker(64).sequences(Dataset.read(train, DataFormat.TEXT).records());
                LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, model.config().modules(),
                        family.getKey()), model.config(), 3);
                new LocalTraining(model.model(), new TrainingOptions(6, 4, 2e-2, 0, 1, 0, false, 5)).run(lora, data);
                assertThat(lora.tensors().entrySet()).filteredOn(e -> !LoraParameters.isA(e.getKey()))
                        .allSatisfy(e -> assertThat(maxAbs(e.getValue().values())).as(e.getKey()).isGreaterThan(1e-3));
                lora.toAdapter().write(adapter);
                // the ids evaluate scores: its chunker (BOS, EOS, at most --max-seq-len) over the set's records
                sequences = JSON.createArrayNode();
                for (TokenSequence s : model.chunker(256).sequences(Dataset.read(eval, DataFormat.TEXT).records())) {
                    ObjectNode n = sequences.addObject();
                    for (int t : s.tokens()) {
                        n.withArray("ids").add(t);
                    }
                    for (boolean l : s.loss()) {
                        n.withArray("loss").add(l);
                    }
                }
            }
            FEDTUNE.put(family.getKey(), evaluate(base, adapter, eval).get("meanLoss").asDouble());
            ObjectNode c = cases.addObject();
            c.put("name", family.getKey());
            c.put("base", base.toString());
            c.put("adapter", adapter.toString());
            c.set("sequences", sequences);
        }
        Path casesFile = dir.resolve("cases.json");
        JSON.writeValue(casesFile.toFile(), cases);
        String out = PeftPython.run(List.of(python, Path.of("bench", "peft_interop.py").toAbsolutePath().toString(),
                casesFile.toString()), 900, "bench/peft_interop.py");
        String[] lines = out.strip().split("\n");
        peft = JSON.readTree(lines[lines.length - 1]);
        System.err.println("PEFT interop (" + PeftPython.versions() + "): fedtune " + FEDTUNE + "; peft " + peft);
    }

    @ParameterizedTest
    @MethodSource("familyNames")
    void peftLoadsTheAdapterAsWrittenAndComputesFedtunesLoss(String family) {
        JsonNode p = peft.get(family);
        assertThat(p).as("peft_interop.py's result for " + family).isNotNull();
        double fedtune = FEDTUNE.get(family);
        assertThat(p.get("meanLoss").asDouble()).as(family + ": PEFT's loss against fedtune evaluate's " + fedtune)
                .isCloseTo(fedtune, within(1e-4 * fedtune));
        // the adapter matters, so agreeing on it is not agreeing on the base model alone
        assertThat(Math.abs(p.get("baseMeanLoss").asDouble() - fedtune)).as(family + ": loss without the adapter")
                .isGreaterThan(1e-3);
        assertThat(p.get("tokens").asInt()).isGreaterThan(50);
    }

    private static JsonNode evaluate(Path base, Path adapter, Path data) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try (PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            exit = FedtuneTrainer.run("evaluate", "--base", base.toString(), "--adapter", adapter.toString(),
                    "--data", data.toString(), "--precision", "FP32");
        } finally {
            System.setOut(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8).strip();
        assertThat(exit).as("evaluate exit; output: " + text).isZero();
        String[] lines = text.split("\n");
        return JSON.readTree(lines[lines.length - 1]);
    }

    private static List<String> records(int n, Random r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int start = r.nextInt(WORDS.length);
            for (int j = 0; j < 12 + r.nextInt(8); j++) {
                sb.append(j == 0 ? "" : " ").append(WORDS[(start + j * (1 + i % 3)) % WORDS.length]);
            }
            out.add("{\"text\":\"" + sb + ".\"}");
        }
        return out;
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
