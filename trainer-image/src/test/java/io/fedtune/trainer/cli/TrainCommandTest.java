package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.DataFormat;
import io.fedtune.api.v1alpha1.DatasetRef;
import io.fedtune.api.v1alpha1.LocalTrainingSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.model.GpuCheck;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.pretrain.ByteLevelBpe;
import io.fedtune.trainer.shard.ShardManifest;
import io.fedtune.trainer.storage.Sha256;
import io.minio.StatObjectArgs;
import io.minio.UploadObjectArgs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import io.fedtune.trainer.storage.ObjectStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TrainCommandTest {
    static final String[] WORDS = {"the", "river", "runs", "to", "sea", "and", "light", "was", "upon", "waters", "good", "day"};
    static Path root;
    static Path base;
    static Path trainData;
    static Path evalData;
    static S3ProxyServer s3;

    @BeforeAll
    static void fixtures(@TempDir Path tmp) throws Exception {
        root = tmp;
        trainData = tmp.resolve("train.jsonl");
        evalData = tmp.resolve("eval.jsonl");
        Files.write(trainData, records(60, new Random(1)));
        Files.write(evalData, records(12, new Random(2)));
        ByteLevelBpe bpe = ByteLevelBpe.train(String.join("\n", Files.readAllLines(trainData)), 300);
        base = tmp.resolve("base");
        RandomCheckpoint.write(base, config(bpe.vocabSize()), 3, 0.1);
        bpe.write(base.resolve("tokenizer.json"));
        s3 = S3ProxyServer.start(Files.createDirectories(tmp.resolve("s3")));
        s3.makeBucket("run");
        s3.makeBucket("silo");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            upload("run", "models/tiny/" + f, base.resolve(f));
        }
        upload("silo", "shard-a/train.jsonl", trainData);
        upload("silo", "shard-a/eval.jsonl", evalData);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        s3.close();
    }

    static ModelConfig config(int vocab) {
        return new ModelConfig("LlamaForCausalLM", vocab, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, true, false, 128,
                ByteLevelBpe.BOS, ByteLevelBpe.EOS);
    }

    /** Short texts that repeat a few fixed phrases, so a small adapter learns them quickly. */
    static List<String> records(int n, Random r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int start = r.nextInt(WORDS.length);
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < 14; j++) {
                sb.append(j == 0 ? "" : " ").append(WORDS[(start + j) % WORDS.length]);
            }
            out.add("{\"text\":\"" + sb + ".\"}");
        }
        return out;
    }

    static void upload(String bucket, String key, Path file) throws Exception {
        s3.client().uploadObject(UploadObjectArgs.builder().bucket(bucket).object(key).filename(file.toString()).build());
    }

    record Run(int exit, TrainResult result, String stdout) {
    }

    static Run train(Map<String, String> env, String... args) throws IOException {
        return trainWith(new Environment(withLog(env)), args);
    }

    /** The environment with a fresh termination log and the shared work dir unless it names one. */
    static Map<String, String> withLog(Map<String, String> env) throws IOException {
        Map<String, String> e = new HashMap<>(env);
        e.put(TrainerEnv.TERMINATION_LOG, Files.createTempFile(root, "termination", ".json").toString());
        e.putIfAbsent(TrainerEnv.WORK_DIR, root.resolve("work").toString());
        return e;
    }

    static Run trainWith(Environment environment, String... args) throws IOException {
        Path log = Path.of(environment.get(TrainerEnv.TERMINATION_LOG));
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new TrainCommand(environment)).execute(args);
        } finally {
            System.setOut(original);
        }
        String json = Files.readString(log);
        assertThat(json.getBytes(StandardCharsets.UTF_8).length).isLessThan(TrainerEnv.TERMINATION_MESSAGE_LIMIT);
        return new Run(exit, ContractJson.read(json, TrainResult.class), captured.toString(StandardCharsets.UTF_8));
    }

    static String[] local(Path out, String... overrides) {
        Map<String, String> opts = new java.util.LinkedHashMap<>();
        opts.put("--base", base.toString());
        opts.put("--data", trainData.toString());
        opts.put("--eval", evalData.toString());
        opts.put("--out", out.toString());
        opts.put("--steps", "30");
        opts.put("--lr", "2e-2");
        opts.put("--batch-size", "8");
        opts.put("--targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj");
        opts.put("--dropout", "0");
        for (int i = 0; i < overrides.length; i += 2) {
            opts.put(overrides[i], overrides[i + 1]);
        }
        List<String> args = new ArrayList<>();
        opts.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        return args.toArray(String[]::new);
    }

    @Test
    void localRoundWritesAPeftAdapterAndAManifestThatEvaluateAgreesWith() throws Exception {
        Path out = root.resolve("local-out");
        Run run = train(Map.of(), local(out));

        assertThat(run.exit()).isZero();
        TrainResult r = run.result();
        assertThat(r.outcome()).isEqualTo(Outcome.Succeeded);
        assertThat(r.evalLossAfter()).isLessThan(r.evalLossBefore() - 0.3);
        ShardManifest m = ShardManifest.read(out);
        assertThat(m.files()).containsOnlyKeys("adapter_config.json", "adapter_model.safetensors");
        assertThat(m.files().get("adapter_model.safetensors")).isEqualTo(Sha256.of(out.resolve("adapter_model.safetensors")))
                .isEqualTo(r.sha256());
        assertThat(m.samples()).isEqualTo(60);
        assertThat(m.demonstrations()).as("inContextExamples 0").isZero();
        assertThat(m.tokensPerSecond()).isPositive();
        String device = GpuCheck.run().problem().isPresent() ? "cpu" : "gpu";
        assertThat(List.of(r.device(), m.device())).as("auto: a usable GPU, else the CPU").containsOnly(device);
        assertThat(List.of(r.precision(), m.precision())).containsOnly(device.equals("cpu") ? "FP32" : "BF16");
        assertThat(List.of(r.cache(), m.cache())).as("a local base model is used in place").containsOnly("off");
        JsonNode peft = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertThat(peft.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(peft.get("target_modules")).hasSize(7);
        assertThat(peft.get("base_model_name_or_path").asText()).as("the base as given, not a cache folder").isEqualTo(base.toString());

        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new EvaluateCommand()).execute("--base", base.toString(), "--adapter", out.toString(),
                    "--data", evalData.toString());
            assertThat(exit).isZero();
        } finally {
            System.setOut(original);
        }
        JsonNode eval = new ObjectMapper().readTree(captured.toString(StandardCharsets.UTF_8));
        assertThat(eval.get("meanLoss").asDouble()).isCloseTo(r.evalLossAfter(), org.assertj.core.data.Offset.offset(1e-5));
        assertThat(eval.get("perplexity").asDouble()).isCloseTo(Math.exp(r.evalLossAfter()), org.assertj.core.data.Offset.offset(1e-3));
        assertThat(eval.get("tokens").asLong()).isPositive();
    }

    @Test
    void aRoundWithInContextExamplesTrainsAndReportsHowManyWereUsed() throws Exception {
        Path out = root.resolve("icl-out");
        Run run = train(Map.of(), local(out, "--in-context-examples", "2", "--max-seq-len", "128", "--steps", "10"));

        assertThat(run.exit()).isZero();
        assertThat(run.result().trainLoss()).isFinite();
        assertThat(run.result().evalLossAfter()).isFinite().isLessThan(run.result().evalLossBefore());
        ShardManifest m = ShardManifest.read(out);
        assertThat(m.demonstrations()).as("short records: both fit nearly always").isGreaterThan(1.5).isLessThanOrEqualTo(2);
    }

    /** MultipleChoice records from the training phrases: the prompt's next words, and two choices from elsewhere. */
    static List<String> multipleChoice(int n, Random r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int start = r.nextInt(WORDS.length);
            StringBuilder prompt = new StringBuilder();
            for (int j = 0; j < 5; j++) {
                prompt.append(WORDS[(start + j) % WORDS.length]).append(' ');
            }
            String right = WORDS[(start + 5) % WORDS.length] + " " + WORDS[(start + 6) % WORDS.length];
            String wrong = WORDS[(start + 2) % WORDS.length];
            String longer = WORDS[(start + 9) % WORDS.length] + " " + WORDS[(start + 1) % WORDS.length] + " "
                    + WORDS[(start + 3) % WORDS.length];
            int answer = i % 3;
            List<String> choices = new ArrayList<>(List.of(wrong, longer));
            choices.add(answer, right);
            out.add("{\"prompt\":\"" + prompt + "\",\"choices\":[\"" + String.join("\",\"", choices) + "\"],\"answer\":"
                    + answer + "}");
        }
        return out;
    }

    static JsonNode evaluate(String... args) throws IOException {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            assertThat(new CommandLine(new EvaluateCommand()).execute(args)).isZero();
        } finally {
            System.setOut(original);
        }
        return new ObjectMapper().readTree(captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMultipleChoiceEvalSetReportsItsRankingMetricBeforeAndAfterAndEvaluateAgrees() throws Exception {
        Path mc = Files.write(root.resolve("mc.jsonl"), multipleChoice(12, new Random(4)));
        Path out = root.resolve("mc-out");
        Run run = train(Map.of(), local(out, "--eval", mc.toString(), "--eval-task", "MultipleChoice"));

        assertThat(run.exit()).as(run.stdout()).isZero();
        TrainResult r = run.result();
        assertThat(r.evalMetric()).isEqualTo("AccuracyNorm");
        assertThat(List.of(r.evalBefore(), r.evalAfter())).allSatisfy(v -> assertThat(v).isBetween(0.0, 1.0));
        assertThat(r.evalLossAfter()).as("the gold choices are the training phrases").isLessThan(r.evalLossBefore());
        ShardManifest m = ShardManifest.read(out);
        assertThat(m.evalMetric()).isEqualTo("AccuracyNorm");
        assertThat(m.evalBefore()).isEqualTo(r.evalBefore());
        assertThat(m.evalAfter()).isEqualTo(r.evalAfter());
        assertThat(m.evalScoresAfter().examples()).isEqualTo(12);
        assertThat(m.evalScoresAfter().metrics()).containsOnlyKeys(io.fedtune.api.v1alpha1.EvalMetric.Accuracy,
                io.fedtune.api.v1alpha1.EvalMetric.AccuracyNorm, io.fedtune.api.v1alpha1.EvalMetric.Loss);
        assertThat(m.evalScoresAfter().byLength()).isNotEmpty();

        // the new adapter by hand; and the base alone, which a fresh adapter (B = 0) equals
        JsonNode after = evaluate("--base", base.toString(), "--adapter", out.toString(), "--data", mc.toString(),
                "--task", "MultipleChoice");
        assertThat(after.get("metric").asText()).isEqualTo("AccuracyNorm");
        assertThat(after.get("score").asDouble()).isEqualTo(r.evalAfter());
        assertThat(after.get("meanLoss").asDouble()).isCloseTo(r.evalLossAfter(), org.assertj.core.data.Offset.offset(1e-5));
        assertThat(after.get("examples").asLong()).isEqualTo(12);
        JsonNode before = evaluate("--base", base.toString(), "--data", mc.toString(), "--task", "MultipleChoice",
                "--metric", "AccuracyNorm");
        assertThat(before.get("score").asDouble()).isEqualTo(r.evalBefore());
        assertThat(before.get("metrics").get("Loss").asDouble()).isCloseTo(r.evalLossBefore(), org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void aContractTasksEvalDatasetCarriesItsTaskAndMetric() throws Exception {
        Path mc = Files.write(root.resolve("mc-contract.jsonl"), multipleChoice(6, new Random(9)));
        upload("silo", "shard-a/mc.jsonl", mc);
        TrainTask plain = task(1, null, s3.endpoint());
        io.fedtune.api.v1alpha1.TaskDataset eval = new io.fedtune.api.v1alpha1.TaskDataset("s3://silo/shard-a/mc.jsonl", null);
        eval.task = io.fedtune.api.v1alpha1.EvalTask.MultipleChoice;
        eval.metric = io.fedtune.api.v1alpha1.EvalMetric.Accuracy;
        TrainTask t = new TrainTask(plain.run(), plain.namespace(), plain.round(), plain.shard(), plain.attempt(), plain.storage(),
                plain.baseModel(), plain.baseModelSha256(), null, null, "s3://run/demo/mc/round-0001", plain.lora(), plain.training(),
                plain.dataStorage(), plain.train(), eval, null);
        Map<String, String> env = new HashMap<>(contractEnv(t, S3ProxyServer.SECRET_KEY));
        env.put(TrainerEnv.WORK_DIR, root.resolve("work-mc").toString());

        Run run = train(env);

        assertThat(run.exit()).as(run.stdout()).isZero();
        assertThat(run.result().evalMetric()).isEqualTo("Accuracy");
        assertThat(run.result().evalBefore()).isBetween(0.0, 1.0);
        assertThat(run.result().evalAfter()).isBetween(0.0, 1.0);
        assertThat(run.result().evalLossBefore()).isPositive();

        Run held = train(contractEnv(new TrainTask(plain.run(), plain.namespace(), plain.round(), plain.shard(), plain.attempt(),
                plain.storage(), plain.baseModel(), null, null, null, "s3://run/demo/held/round-0001", plain.lora(),
                plain.training(), plain.dataStorage(), plain.train(), null, null), S3ProxyServer.SECRET_KEY));
        assertThat(held.exit()).isZero();
        assertThat(held.result().evalMetric()).as("held-out training data is LanguageModeling").isEqualTo("Loss");
        assertThat(held.result().evalBefore()).isEqualTo(held.result().evalLossBefore());
        assertThat(held.result().evalAfter()).isEqualTo(held.result().evalLossAfter());
    }

    @Test
    void aContractTasksPromptCompletionChatFormatReachesTheTemplateCheck() throws Exception {
        TrainTask plain = task(1, null, s3.endpoint());
        TrainTask t = new TrainTask(plain.run(), plain.namespace(), plain.round(), plain.shard(), plain.attempt(), plain.storage(),
                plain.baseModel(), plain.baseModelSha256(), null, null, "s3://run/demo/pcc/round-0001", plain.lora(), plain.training(),
                plain.dataStorage(), new DatasetRef(plain.train().uri, DataFormat.PromptCompletionChat), plain.eval(), null);
        Map<String, String> env = new HashMap<>(contractEnv(t, S3ProxyServer.SECRET_KEY));
        env.put(TrainerEnv.WORK_DIR, root.resolve("work-pcc").toString());

        Run run = train(env);

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(run.result().message()).contains("format PromptCompletionChat renders each prompt and completion",
                "chat_template");
    }

    static TrainTask task(int round, String globalAdapter, String endpoint) {
        return task(round, globalAdapter, null, endpoint);
    }

    static TrainTask task(int round, String globalAdapter, String globalSha256, String endpoint) {
        LoraSpec lora = new LoraSpec();
        lora.rank = 4;
        lora.dropout = 0.0;
        lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ, TargetModule.DOWN_PROJ);
        LocalTrainingSpec t = new LocalTrainingSpec();
        t.steps = 20;
        t.learningRate = 2e-2;
        t.maxSequenceLength = 64;
        return new TrainTask("demo", "ns", round, "shard-a", 1, new StorageRef(endpoint, "us-east-1"),
                "s3://run/models/tiny", null, globalAdapter, globalSha256, "s3://run/demo/round-000" + round + "/shards/shard-a/attempt-1",
                lora, t, new StorageRef(endpoint, "us-east-1"),
                new DatasetRef("s3://silo/shard-a/train.jsonl", DataFormat.Text),
                new io.fedtune.api.v1alpha1.TaskDataset("s3://silo/shard-a/eval.jsonl", DataFormat.Text), null);
    }

    static Map<String, String> contractEnv(TrainTask task, String secret) {
        return Map.of(TrainerEnv.TASK, ContractJson.write(task), TrainerEnv.ROLE, "train",
                TrainerEnv.STORAGE_ACCESS_KEY, S3ProxyServer.ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY, S3ProxyServer.SECRET_KEY,
                TrainerEnv.DATA_ACCESS_KEY, S3ProxyServer.ACCESS_KEY, TrainerEnv.DATA_SECRET_KEY, secret);
    }

    @Test
    void contractTaskTrainsFromObjectStorageAndChainsRounds() throws Exception {
        Run first = train(contractEnv(task(1, null, s3.endpoint()), S3ProxyServer.SECRET_KEY));
        assertThat(first.exit()).as(first.stdout()).isZero();
        String key = "demo/round-0001/shards/shard-a/attempt-1/adapter_model.safetensors";
        var stat = s3.client().statObject(StatObjectArgs.builder().bucket("run").object(key).build());
        assertThat(stat.userMetadata().get("sha256")).isEqualTo(first.result().sha256());
        assertThat(first.result().adapter()).isEqualTo("s3://run/demo/round-0001/shards/shard-a/attempt-1");
        assertThat(first.result().rank()).isEqualTo(4);
        assertThat(Files.list(root.resolve("work/models")).filter(p -> p.getFileName().toString().length() == 64))
                .as("base model cached by SHA-256").hasSize(1);

        Run second = train(contractEnv(task(2, first.result().adapter(), first.result().sha256(), s3.endpoint()),
                S3ProxyServer.SECRET_KEY));
        assertThat(second.exit()).as("the adapter as recorded").isZero();
        assertThat(second.result().evalLossBefore()).isCloseTo(first.result().evalLossAfter(), org.assertj.core.data.Offset.offset(1e-5));
        assertThat(second.result().evalLossAfter()).isLessThan(second.result().evalLossBefore());

        // the adapter changes in storage after the operator recorded its SHA-256: still a valid safetensors, one byte off
        Path tampered = root.resolve("tampered.safetensors");
        s3.client().downloadObject(io.minio.DownloadObjectArgs.builder().bucket("run").object(key)
                .filename(tampered.toString()).build());
        byte[] bytes = Files.readAllBytes(tampered);
        bytes[bytes.length - 1] ^= 1;
        Files.write(tampered, bytes);
        upload("run", key, tampered);
        Run third = train(contractEnv(task(3, first.result().adapter(), first.result().sha256(), s3.endpoint()),
                S3ProxyServer.SECRET_KEY));
        assertThat(third.exit()).isEqualTo(1);
        assertThat(third.result().reason()).isEqualTo("InputTampered");
        assertThat(third.result().message()).contains("s3://run/" + key).contains(first.result().sha256())
                .contains(Sha256.of(tampered));
        assertThat(third.result().evalLossBefore()).as("refused before it is evaluated or trained on").isNull();
        assertThat(s3.client().listObjects(io.minio.ListObjectsArgs.builder().bucket("run")
                .prefix("demo/round-0003/").recursive(true).build())).as("nothing published").isEmpty();
    }

    @Test
    void wrongCredentialsAndUnreachableStorageFailWithTheirReasons() throws Exception {
        Run denied = train(contractEnv(task(1, null, s3.endpoint()), "not-the-secret"));
        assertThat(denied.exit()).isEqualTo(1);
        assertThat(denied.result().reason()).isEqualTo("AccessDenied");
        assertThat(denied.result().message()).contains("denied access to s3://silo/shard-a/train.jsonl")
                .doesNotContain("not-the-secret");

        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Map<String, String> shortRetry = new HashMap<>(contractEnv(task(1, null, "http://127.0.0.1:" + closedPort),
                S3ProxyServer.SECRET_KEY));
        shortRetry.put(TrainerEnv.STORAGE_RETRY_SECONDS, "2");
        Run unreachable = train(shortRetry);
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.result().reason()).isEqualTo("StorageUnreachable");
        assertThat(unreachable.result().message()).contains("object storage at http://127.0.0.1:" + closedPort + " is unreachable",
                "retry time 2 s").doesNotContain(S3ProxyServer.SECRET_KEY);

        shortRetry.put(TrainerEnv.STORAGE_RETRY_SECONDS, "soon");
        Run badRetry = train(shortRetry);
        assertThat(badRetry.result().reason()).isEqualTo("InvalidTask");
        assertThat(badRetry.result().message()).contains(TrainerEnv.STORAGE_RETRY_SECONDS, "soon");

        Run badTask = train(Map.of(TrainerEnv.TASK, "{not json"));
        assertThat(badTask.result().reason()).isEqualTo("InvalidTask");
    }

    @Test
    void anUploadThatMeetsAStorageOutageIsRetriedWithoutTrainingAgain() throws Exception {
        Map<String, String> env = new HashMap<>(contractEnv(task(1, null, s3.endpoint()), S3ProxyServer.SECRET_KEY));
        env.put(TrainerEnv.STORAGE_RETRY_SECONDS, "20");
        env.put(TrainerEnv.WORK_DIR, root.resolve("work-outage").toString());
        String output = "s3://run/demo/round-0001/shards/shard-a/attempt-1";
        List<String> retried = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicReference<java.time.Duration> longest = new java.util.concurrent.atomic.AtomicReference<>(java.time.Duration.ZERO);
        java.util.concurrent.atomic.AtomicBoolean restarted = new java.util.concurrent.atomic.AtomicBoolean();
        ObjectStore.RetryListener outageEnds = (uri, attempt, failingFor, cause) -> {
            retried.add(uri.toString());
            longest.accumulateAndGet(failingFor, (a, b) -> a.compareTo(b) >= 0 ? a : b);
            if (failingFor.compareTo(java.time.Duration.ofSeconds(5)) > 0 && !restarted.getAndSet(true)) {
                try {
                    s3.restart(); // past the old ~3.5 s of four tries
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        };
        // the outage starts the moment training has ended: the trainer says it publishes, and the server goes away
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream original = System.err;
        Run run;
        try {
            System.setErr(new PrintStream(new java.io.OutputStream() {
                private final StringBuilder line = new StringBuilder();

                @Override
                public void write(int b) {
                    log.write(b);
                    original.write(b);
                    if (b != '\n') {
                        line.append((char) b);
                        return;
                    }
                    if (line.toString().startsWith("publishing ")) {
                        try {
                            s3.stop();
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    }
                    line.setLength(0);
                }
            }, true, StandardCharsets.UTF_8));
            run = trainWith(new Environment(withLog(env), outageEnds));
        } finally {
            System.setErr(original);
        }

        String stderr = log.toString(StandardCharsets.UTF_8);
        assertThat(run.exit()).as(stderr).isZero();
        assertThat(restarted).as("the outage happened and ended").isTrue();
        assertThat(longest.get()).isGreaterThan(java.time.Duration.ofMillis(3500));
        assertThat(retried).isNotEmpty().allSatisfy(uri -> assertThat(uri).startsWith(output + "/"));
        assertThat(stderr.lines().filter(l -> l.startsWith("shard shard-a round 1: "))).as("trained once").hasSize(1);
        assertThat(stderr.lines().filter(l -> l.startsWith("publishing "))).hasSize(1);
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "manifest.json")) {
            var stat = s3.client().statObject(StatObjectArgs.builder().bucket("run")
                    .object("demo/round-0001/shards/shard-a/attempt-1/" + f).build());
            assertThat(stat.userMetadata()).containsKey("sha256");
        }
        var weights = s3.client().statObject(StatObjectArgs.builder().bucket("run")
                .object("demo/round-0001/shards/shard-a/attempt-1/adapter_model.safetensors").build());
        assertThat(weights.userMetadata().get("sha256")).isEqualTo(run.result().sha256());
    }

    @Test
    void chatDataNeedsTheCheckpointsChatTemplate() throws Exception {
        List<String> lines = new ArrayList<>();
        Random r = new Random(5);
        for (int i = 0; i < 24; i++) {
            lines.add("{\"messages\":[{\"role\":\"user\",\"content\":\"" + WORDS[r.nextInt(WORDS.length)] + " "
                    + WORDS[r.nextInt(WORDS.length)] + "?\"},{\"role\":\"assistant\",\"content\":\"the river runs to the sea.\"}]}");
        }
        Path chat = Files.write(root.resolve("chat.jsonl"), lines);
        Path out = root.resolve("chat-out");

        Run noTemplate = train(Map.of(), local(out, "--data", chat.toString(), "--eval", chat.toString(), "--format", "Chat"));
        assertThat(noTemplate.exit()).isEqualTo(1);
        assertThat(noTemplate.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(noTemplate.result().message()).contains("format Chat", "tokenizer_config.json", "chat_template",
                "or use format Text or PromptCompletion");

        Path noField = copyBase("no-chat-template");
        Files.writeString(noField.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        Run fieldless = train(Map.of(), local(out, "--base", noField.toString(), "--data", chat.toString(),
                "--eval", chat.toString(), "--format", "Chat"));
        assertThat(fieldless.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(fieldless.result().message()).contains(noField.resolve("tokenizer_config.json") + " has no \"chat_template\" field");

        Path templated = copyBase("templated");
        Files.writeString(templated.resolve("tokenizer_config.json"), new ObjectMapper().writeValueAsString(Map.of(
                "chat_template", "{% for m in messages %}{{ m.role }}: {{ m.content | trim }}\n{% endfor %}")));
        Run trained = train(Map.of(), local(out, "--base", templated.toString(), "--data", chat.toString(),
                "--eval", chat.toString(), "--format", "Chat", "--steps", "2"));
        assertThat(trained.exit()).as(trained.stdout()).isZero();

        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            pairs.add("{\"prompt\":\"" + WORDS[r.nextInt(WORDS.length)] + "?\",\"completion\":\" the river runs to the sea.\"}");
        }
        Path pc = Files.write(root.resolve("pc.jsonl"), pairs);
        Run pcNoTemplate = train(Map.of(), local(out, "--data", pc.toString(), "--eval", pc.toString(), "--format", "PromptCompletionChat"));
        assertThat(pcNoTemplate.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(pcNoTemplate.result().message()).contains("format PromptCompletionChat renders each prompt and completion",
                "tokenizer_config.json", "chat_template");
        Run pcTrained = train(Map.of(), local(out, "--base", templated.toString(), "--data", pc.toString(),
                "--eval", pc.toString(), "--format", "PromptCompletionChat", "--steps", "2"));
        assertThat(pcTrained.exit()).as(pcTrained.stdout()).isZero();
    }

    @Test
    void badInputsFailWithAReasonNamingTheProblem() throws Exception {
        Path out = root.resolve("bad-out");
        Run missing = train(Map.of(), local(out, "--base", root.resolve("nothing").toString()));
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(missing.result().message()).contains("does not exist");

        Path corrupt = copyBase("corrupt");
        Files.write(corrupt.resolve("model.safetensors"), new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        Run corrupted = train(Map.of(), local(out, "--base", corrupt.toString()));
        assertThat(corrupted.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(corrupted.result().message()).contains("model.safetensors");

        Path bigTokenizer = copyBase("big-tokenizer");
        ByteLevelBpe.train(String.join("\n", Files.readAllLines(trainData)) + " zebra quixotic jam", 320)
                .write(bigTokenizer.resolve("tokenizer.json"));
        Run mismatch = train(Map.of(), local(out, "--base", bigTokenizer.toString()));
        assertThat(mismatch.result().reason()).isEqualTo("TokenizerMismatch");
        assertThat(mismatch.result().message()).contains("vocab_size is 300");

        Path empty = Files.writeString(root.resolve("empty.jsonl"), "");
        Run noData = train(Map.of(), local(out, "--data", empty.toString(), "--eval", evalData.toString()));
        assertThat(noData.result().reason()).isEqualTo("DataEmpty");

        Path adapterOut = root.resolve("rank8");
        assertThat(train(Map.of(), local(adapterOut, "--steps", "1")).exit()).isZero();
        Run wrongRank = train(Map.of(), local(out, "--global-adapter", adapterOut.toString(), "--rank", "4"));
        assertThat(wrongRank.exit()).isEqualTo(1);
        assertThat(wrongRank.result().reason()).isEqualTo("AdapterMismatch");
        assertThat(wrongRank.result().message()).contains("rank 8").contains("rank 4");

        Path otherModel = root.resolve("other-model");
        Files.createDirectories(otherModel);
        ModelConfig wider = new ModelConfig("LlamaForCausalLM", 300, 64, 48, 2, 4, 2, 16, 1e-5, 10000.0, true, false, 128, 1, 2);
        RandomCheckpoint.write(otherModel, wider, 1);
        Files.copy(base.resolve("tokenizer.json"), otherModel.resolve("tokenizer.json"));
        Run wrongShape = train(Map.of(), local(out, "--base", otherModel.toString(), "--global-adapter", adapterOut.toString()));
        assertThat(wrongShape.result().reason()).isEqualTo("AdapterMismatch");
        assertThat(wrongShape.result().message()).contains("the model needs");
    }

    @Test
    void aQuantizedBaseTrainsAndIsRecordedAndInt4RefusesInputSizesThatAreNotAMultipleOf64() throws Exception {
        Path out = root.resolve("int8-out");
        Run int8 = train(Map.of(), local(out, "--base-quantization", "Int8", "--steps", "20"));
        assertThat(int8.exit()).isZero();
        assertThat(int8.result().evalLossAfter()).isLessThan(int8.result().evalLossBefore() - 0.3);
        assertThat(ShardManifest.read(out).baseQuantization()).isEqualTo("Int8");

        // the fixture has hidden 32 and intermediate 48; the task's field reaches the trainer, refused before training
        TrainTask plain = task(1, null, s3.endpoint());
        plain.training().baseQuantization = io.fedtune.api.v1alpha1.BaseQuantization.Int4;
        Run int4 = train(contractEnv(plain, S3ProxyServer.SECRET_KEY));
        assertThat(int4.exit()).isEqualTo(1);
        assertThat(int4.result().reason()).isEqualTo("InvalidTask");
        assertThat(int4.result().message()).contains("model.layers.0.").contains("not a multiple of 64").contains("use baseQuantization Int8");
    }

    @Test
    void aPodThatAsksForAGpuItCannotUseFailsInsteadOfTrainingOnTheCpu() throws Exception {
        assumeTrue(GpuCheck.run().problem().isPresent(), "this machine has a usable GPU");
        Path out = root.resolve("gpu-out");
        Run gpu = train(Map.of(TrainerEnv.DEVICE, "gpu"), local(out, "--steps", "2"));
        assertThat(gpu.exit()).isEqualTo(1);
        assertThat(gpu.result().reason()).isEqualTo("GpuUnavailable");
        assertThat(gpu.result().message()).startsWith("the pod asked for a GPU (FEDTUNE_DEVICE=gpu), DJL's PyTorch engine sees 0 GPUs; libtorch flavour ");
        assertThat(out.resolve("adapter_model.safetensors")).as("nothing trained on the CPU instead").doesNotExist();

        Run cpu = train(Map.of(TrainerEnv.DEVICE, "cpu"), local(out, "--steps", "2"));
        assertThat(cpu.exit()).isZero();
        assertThat(cpu.result().device()).isEqualTo("cpu");
        assertThat(cpu.result().precision()).isEqualTo("FP32");
        assertThat(ShardManifest.read(out).device()).isEqualTo("cpu");

        Run bogus = train(Map.of(TrainerEnv.DEVICE, "tpu"), local(out, "--steps", "2"));
        assertThat(bogus.result().reason()).isEqualTo("InvalidTask");
        assertThat(bogus.result().message()).contains("FEDTUNE_DEVICE is 'tpu'");
    }

    @Test
    void aCacheThatOutlivesPodsIsFilledOnceAndSaysSo() throws Exception {
        Map<String, String> env = Map.of(TrainerEnv.CACHE_DIR, root.resolve("pvc").toString(),
                Environment.STORAGE_ENDPOINT, s3.endpoint(), Environment.STORAGE_REGION, "us-east-1",
                TrainerEnv.STORAGE_ACCESS_KEY, S3ProxyServer.ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY, S3ProxyServer.SECRET_KEY);
        Path out = root.resolve("cache-out");
        Run miss = train(env, local(out, "--base", "s3://run/models/tiny", "--steps", "2"));
        assertThat(miss.exit()).as(miss.stdout()).isZero();
        assertThat(miss.result().cache()).isEqualTo("miss");
        assertThat(ShardManifest.read(out).cache()).isEqualTo("miss");
        String sha = Sha256.of(base.resolve("model.safetensors"));
        assertThat(root.resolve("pvc/models").resolve(sha).resolve("model.safetensors")).exists();

        Run hit = train(env, local(out, "--base", "s3://run/models/tiny", "--steps", "2"));
        assertThat(hit.result().cache()).isEqualTo("hit");
        assertThat(ShardManifest.read(out).cache()).isEqualTo("hit");
    }

    @Test
    void storageCredentialProblemsAreRefusedByName() throws Exception {
        Path token = Files.writeString(root.resolve("web-identity-token"), "jwt");
        Run noRole = train(Map.of(TrainerEnv.TASK, ContractJson.write(task(1, null, s3.endpoint())),
                TrainerEnv.AWS_WEB_IDENTITY_TOKEN_FILE, token.toString()));
        assertThat(noRole.result().reason()).isEqualTo("InvalidTask");
        assertThat(noRole.result().message()).contains("web identity needs AWS_ROLE_ARN");

        Path notPem = Files.writeString(root.resolve("ca.pem"), "-----BEGIN NOTHING-----\n");
        Map<String, String> env = new HashMap<>(contractEnv(task(1, null, s3.endpoint()), S3ProxyServer.SECRET_KEY));
        env.put(TrainerEnv.STORAGE_CA_FILE, notPem.toString());
        Run badCa = train(env);
        assertThat(badCa.result().reason()).isEqualTo("InvalidTask");
        assertThat(badCa.result().message()).contains("FEDTUNE_STORAGE_CA_FILE " + notPem + " is not a PEM certificate");
    }

    @Test
    void aPhi3RoundTrainsItsFusedModulesAndRefusesTargetsItDoesNotHave() throws Exception {
        Path phi = Files.createDirectories(root.resolve("phi3"));
        ModelConfig c = config(300);
        RandomCheckpoint.write(phi, new ModelConfig(ModelConfig.PHI3, c.vocabSize(), 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, true,
                false, 128, c.bosTokenId(), c.eosTokenId()).withPartialRotaryFactor(0.75), 3, 0.1);
        Files.copy(base.resolve("tokenizer.json"), phi.resolve("tokenizer.json"));

        Run separate = train(Map.of(), local(root.resolve("phi3-q"), "--base", phi.toString(), "--steps", "1"));
        assertThat(separate.exit()).isEqualTo(1);
        assertThat(separate.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(separate.result().message()).contains("LoRA target q_proj is not a module of Phi3ForCausalLM")
                .contains("[qkv_proj, o_proj, gate_up_proj, down_proj]");

        Path out = root.resolve("phi3-out");
        Run fused = train(Map.of(), local(out, "--base", phi.toString(), "--steps", "20",
                "--targets", "qkv_proj,o_proj,gate_up_proj,down_proj"));
        assertThat(fused.exit()).as(fused.stdout()).isZero();
        assertThat(fused.result().evalLossAfter()).isLessThan(fused.result().evalLossBefore());
        io.fedtune.trainer.adapter.Adapter adapter = io.fedtune.trainer.adapter.Adapter.read(out);
        assertThat(adapter.config().targetModules()).extracting(io.fedtune.trainer.adapter.LoraTarget::moduleName)
                .containsExactlyInAnyOrder("qkv_proj", "o_proj", "gate_up_proj", "down_proj");
        assertThat(adapter.tensors()).containsKey("base_model.model.model.layers.1.self_attn.qkv_proj.lora_B.weight");

        Run llama = train(Map.of(), local(root.resolve("llama-qkv"), "--steps", "1", "--targets", "qkv_proj"));
        assertThat(llama.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(llama.result().message()).contains("LoRA target qkv_proj is not a module of LlamaForCausalLM");
    }

    private static Path copyBase(String name) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(base.resolve(f), dir.resolve(f));
        }
        return dir;
    }
}
