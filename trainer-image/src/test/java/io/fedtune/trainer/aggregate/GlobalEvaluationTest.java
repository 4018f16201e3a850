package io.fedtune.trainer.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.cli.AggregateCommand;
import io.fedtune.trainer.data.Chunker;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.TextTokenizer;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.eval.TaskData;
import io.fedtune.trainer.eval.TaskScore;
import io.fedtune.trainer.eval.TaskScorer;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.pretrain.ByteLevelBpe;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LoraParameters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GlobalEvaluationTest {
    private static final String[] WORDS = {"the", "river", "runs", "to", "sea", "and", "light", "was", "upon", "waters"};

    @TempDir
    Path tmp;

    private static List<String> records(int n, int minWords, int maxWords, Random random) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int words = minWords + random.nextInt(maxWords - minWords + 1);
            for (int w = 0; w < words; w++) {
                sb.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
            }
            lines.add("{\"text\":\"" + sb + "\"}");
        }
        return lines;
    }

    @Test
    void evaluatesTheNewGlobalAdapterPerSetAndLengthClassAndFlagsRegression() throws Exception {
        Path inDomain = tmp.resolve("in.jsonl");
        Path outDomain = tmp.resolve("out.jsonl");
        Files.write(inDomain, records(10, 2, 60, new Random(1)));
        Files.write(outDomain, records(6, 2, 8, new Random(2)));
        ByteLevelBpe bpe = ByteLevelBpe.train(String.join("\n", Files.readAllLines(inDomain)), 300);
        ModelConfig config = new ModelConfig("LlamaForCausalLM", bpe.vocabSize(), 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                true, false, 128, ByteLevelBpe.BOS, ByteLevelBpe.EOS);
        Path base = tmp.resolve("base");
        RandomCheckpoint.write(base, config, 3, 0.1);
        bpe.write(base.resolve("tokenizer.json"));

        AdapterLayout layout = AdapterLayout.of(config, List.of(LoraTarget.Q_PROJ, LoraTarget.V_PROJ));
        List<ShardUpdate> updates = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path dir = tmp.resolve("shards/s" + i);
            Map<String, float[]> t = AdapterFixture.random(layout, 2, i);
            String sha = AdapterFixture.write(dir, layout, 2, 4, t);
            updates.add(new ShardUpdate("s" + i, dir.toString(), sha, 10, 1.0, 2));
        }
        LoraSpec lora = new LoraSpec();
        lora.rank = 2;
        lora.alpha = 4.0;
        lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
        EvalDataset in = new EvalDataset();
        in.name = "in-domain";
        in.uri = inDomain.toString();
        EvalDataset out = new EvalDataset();
        out.name = "out-of-domain";
        out.uri = outDomain.toString();
        int maxSeq = 32;
        Path global = tmp.resolve("global");
        AggregateTask task = new AggregateTask("run", "ns", 1, 1, null, base.toString(), null, null, null, null, 0.0, updates, lora,
                new AggregationSpec(), null, null, List.of(in, out), maxSeq, 1, 1.0, global.toString());
        Path taskFile = tmp.resolve("task.json");
        Files.writeString(taskFile, ContractJson.write(task));

        int code = new CommandLine(new AggregateCommand()).execute("--task", taskFile.toString(), "--work-dir",
                tmp.resolve("work").toString(), "--termination-log", tmp.resolve("termination.log").toString());

        assertThat(code).isZero();
        AggregateResult result = ContractJson.read(Files.readString(tmp.resolve("termination.log")), AggregateResult.class);
        assertThat(result.outcome()).isEqualTo(Outcome.Succeeded);
        assertThat(result.evalLosses()).containsOnlyKeys("in-domain", "out-of-domain");
        assertThat(result.evalLoss()).isEqualTo(result.evalLosses().get("in-domain"));
        // best so far was 0.0, which no random model reaches
        assertThat(result.regressed()).isTrue();

        RoundEvaluation manifestEval = ContractJson.mapper().treeToValue(ContractJson.mapper()
                .readTree(global.resolve(GlobalManifest.FILE).toFile()).path("evaluation"), RoundEvaluation.class);
        io.fedtune.trainer.eval.TaskScore inResult = manifestEval.sets().get("in-domain");
        assertThat(inResult.byLength().keySet()).contains("short", "long");
        assertThat(inResult.perplexity()).isCloseTo(Math.exp(inResult.loss()), within(1e-9));

        // independently: the trainer's evaluation over all of the set's sequences at once, with and without the adapter
        Checkpoint checkpoint = Checkpoint.open(base);
        List<TokenSequence> sequences;
        try (TextTokenizer tokenizer = TextTokenizer.load(checkpoint.tokenizerFile(), config.vocabSize())) {
            sequences = new Chunker(tokenizer, maxSeq, config.bosTokenId(), config.eosTokenId())
                    .sequences(Dataset.read(inDomain, DataFormat.TEXT).records());
        }
        try (LlamaModel model = LlamaModel.load(checkpoint, Device.cpu(), DataType.FLOAT32)) {
            Evaluation.Result withAdapter = Evaluation.run(model,
                    LoraParameters.from(Adapter.read(global), config), sequences, 4);
            Evaluation.Result baseOnly = Evaluation.run(model, null, sequences, 4);
            assertThat(inResult.loss()).isCloseTo(withAdapter.meanLoss(), within(1e-4));
            assertThat(inResult.tokens()).isEqualTo(withAdapter.tokens());
            assertThat(withAdapter.meanLoss()).isNotCloseTo(baseOnly.meanLoss(), within(1e-4));
        }
    }

    @Test
    void eachSetIsScoredByItsTaskAndThePrimarySetsRankingMetricDecidesRegression() throws Exception {
        Path lm = tmp.resolve("lm.jsonl");
        Files.write(lm, records(6, 2, 30, new Random(3)));
        Path cls = Files.write(tmp.resolve("cls.jsonl"), List.of(
                "{\"prompt\":\"the river \",\"label\":\"runs\"}",
                "{\"prompt\":\"light was \",\"label\":\"upon the waters\"}",
                "{\"prompt\":\"the sea and \",\"label\":\"runs\"}",
                "{\"prompt\":\"to the \",\"label\":\"sea\"}"));
        Path gen = Files.write(tmp.resolve("gen.jsonl"), List.of(
                "{\"prompt\":\"the river runs to\",\"completion\":\" the sea\"}",
                "{\"prompt\":\"light was upon\",\"references\":[\" the waters\",\" the sea\"]}"));
        ByteLevelBpe bpe = ByteLevelBpe.train(String.join("\n", Files.readAllLines(lm)), 300);
        ModelConfig config = new ModelConfig("LlamaForCausalLM", bpe.vocabSize(), 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                true, false, 128, ByteLevelBpe.BOS, ByteLevelBpe.EOS);
        Path base = tmp.resolve("base");
        RandomCheckpoint.write(base, config, 3, 0.1);
        bpe.write(base.resolve("tokenizer.json"));
        AdapterLayout layout = AdapterLayout.of(config, List.of(LoraTarget.Q_PROJ, LoraTarget.V_PROJ));
        Path shard = tmp.resolve("shards/s0");
        String sha = AdapterFixture.write(shard, layout, 2, 4, AdapterFixture.random(layout, 2, 0));
        LoraSpec lora = new LoraSpec();
        lora.rank = 2;
        lora.alpha = 4.0;
        lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
        EvalDataset primary = evalSet("labels", cls, EvalTask.Classification);
        primary.metric = EvalMetric.Accuracy;
        EvalDataset answers = evalSet("answers", gen, EvalTask.Generation);
        answers.maxNewTokens = 4;
        List<EvalDataset> sets = List.of(primary, evalSet("text", lm, EvalTask.LanguageModeling), answers);
        Path global = tmp.resolve("global");
        // a best earlier accuracy below any reachable one: no regression for a metric where higher is better
        AggregateTask task = new AggregateTask("run", "ns", 1, 1, null, base.toString(), null, null, null, null, -1.0,
                List.of(new ShardUpdate("s0", shard.toString(), sha, 10, 1.0, 2)), lora, new AggregationSpec(), null, null,
                sets, 32, 1, 1.0, global.toString());
        Path taskFile = Files.writeString(tmp.resolve("task.json"), ContractJson.write(task));

        int code = new CommandLine(new AggregateCommand()).execute("--task", taskFile.toString(), "--work-dir",
                tmp.resolve("work").toString(), "--termination-log", tmp.resolve("termination.log").toString());

        assertThat(code).isZero();
        AggregateResult result = ContractJson.read(Files.readString(tmp.resolve("termination.log")), AggregateResult.class);
        assertThat(result.evalMetric()).isEqualTo("Accuracy");
        assertThat(result.evalScores()).containsOnlyKeys("labels", "text", "answers");
        assertThat(result.evalScores().get("labels")).containsOnlyKeys("Accuracy", "AccuracyNorm", "Loss");
        assertThat(result.evalScores().get("text")).containsOnlyKeys("Loss", "Perplexity");
        assertThat(result.evalScores().get("answers")).containsOnlyKeys("ExactMatch", "RougeL", "Loss");
        assertThat(result.evalScore()).isEqualTo(result.evalScores().get("labels").get("Accuracy")).isBetween(0.0, 1.0);
        assertThat(result.evalLoss()).isEqualTo(result.evalScores().get("labels").get("Loss"));
        assertThat(result.evalLosses()).containsOnlyKeys("labels", "text", "answers");
        assertThat(result.regressed()).isFalse();

        RoundEvaluation manifest = ContractJson.mapper().treeToValue(ContractJson.mapper()
                .readTree(global.resolve(GlobalManifest.FILE).toFile()).path("evaluation"), RoundEvaluation.class);
        assertThat(manifest.evalMetric()).isEqualTo("Accuracy");
        assertThat(manifest.bestEvalScore()).isEqualTo(-1.0);
        assertThat(manifest.sets().get("answers").task()).isEqualTo(EvalTask.Generation);
        assertThat(manifest.sets().get("labels").byLength()).isNotEmpty().allSatisfy((c, s) ->
                assertThat(s.metrics()).containsKeys(EvalMetric.Accuracy, EvalMetric.AccuracyNorm, EvalMetric.Loss));

        // independently: the same sets scored with the new global adapter outside the aggregation
        try (BaseModel model = BaseModel.open(base, new Placement(Device.cpu(), DataType.FLOAT32))) {
            TaskScorer scorer = new TaskScorer(model, 32, 2);
            LoraParameters adapter = LoraParameters.from(Adapter.read(global), config);
            TaskScore labels = scorer.score(TaskData.read(cls, EvalTask.Classification, DataFormat.TEXT, null), adapter);
            assertThat(result.evalScore()).isCloseTo(labels.metric(EvalMetric.Accuracy), within(1e-12));
            assertThat(result.evalScores().get("labels").get("AccuracyNorm"))
                    .isCloseTo(labels.metric(EvalMetric.AccuracyNorm), within(1e-12));
            assertThat(result.evalLoss()).isCloseTo(labels.loss(), within(1e-5));
            TaskScore generated = scorer.score(TaskData.read(gen, EvalTask.Generation, DataFormat.TEXT, 4), adapter);
            assertThat(result.evalScores().get("answers").get("RougeL")).isCloseTo(generated.metric(EvalMetric.RougeL),
                    within(1e-12));
        }

        // the same scores against a best earlier accuracy no adapter can reach: regressed
        AggregateTask higher = new AggregateTask("run", "ns", 1, 1, null, base.toString(), null, null, null, null, 1.5,
                task.updates(), lora, new AggregationSpec(), null, null, List.of(primary), 32, 1, 1.0,
                tmp.resolve("global-2").toString());
        Files.writeString(taskFile, ContractJson.write(higher));
        assertThat(new CommandLine(new AggregateCommand()).execute("--task", taskFile.toString(), "--work-dir",
                tmp.resolve("work").toString(), "--termination-log", tmp.resolve("termination.log").toString())).isZero();
        assertThat(ContractJson.read(Files.readString(tmp.resolve("termination.log")), AggregateResult.class).regressed())
                .isTrue();
    }

    private static EvalDataset evalSet(String name, Path file, EvalTask task) {
        EvalDataset d = new EvalDataset();
        d.name = name;
        d.uri = file.toString();
        d.task = task;
        return d;
    }

    @Test
    void lengthClassesSplitAtAQuarterAndThreeQuarters() {
        assertThat(GlobalEvaluation.lengthClass(8, 32)).isEqualTo("short");
        assertThat(GlobalEvaluation.lengthClass(9, 32)).isEqualTo("medium");
        assertThat(GlobalEvaluation.lengthClass(24, 32)).isEqualTo("medium");
        assertThat(GlobalEvaluation.lengthClass(25, 32)).isEqualTo("long");
    }
}
