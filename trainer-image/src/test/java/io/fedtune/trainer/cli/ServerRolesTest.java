package io.fedtune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.ModelFile;
import io.minio.ListObjectsArgs;
import io.minio.UploadObjectArgs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The server's prepare and publish roles against s3proxy, with the run's credentials. */
class ServerRolesTest {
    static final Path BASE = Path.of("base-model");
    @TempDir
    static Path root;
    static S3ProxyServer s3;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start(Files.createDirectories(root.resolve("s3")));
        s3.makeBucket("run");
        try (Stream<Path> files = Files.list(BASE)) {
            for (Path f : files.toList()) {
                upload("models/quickstart/" + f.getFileName(), f);
            }
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        s3.close();
    }

    static void upload(String key, Path file) throws Exception {
        s3.client().uploadObject(UploadObjectArgs.builder().bucket("run").object(key).filename(file.toString()).build());
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    static List<String> keys(String prefix) throws Exception {
        List<String> keys = new ArrayList<>();
        for (var r : s3.client().listObjects(ListObjectsArgs.builder().bucket("run").prefix(prefix).recursive(true).build())) {
            keys.add(r.get().objectName());
        }
        return keys;
    }

    record Run<T>(int exit, T result) {
    }

    static <T> Run<T> run(Object task, Class<T> result, Function<Environment, Callable<Integer>> command, String cache)
            throws Exception {
        Path log = Files.createTempFile(root, "termination", ".json");
        Map<String, String> env = new HashMap<>(Map.of(TrainerEnv.TASK, ContractJson.write(task),
                TrainerEnv.STORAGE_ACCESS_KEY, S3ProxyServer.ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY, S3ProxyServer.SECRET_KEY,
                TrainerEnv.TERMINATION_LOG, log.toString(), TrainerEnv.WORK_DIR, Files.createTempDirectory(root, "work").toString()));
        if (cache != null) {
            env.put(TrainerEnv.CACHE_DIR, root.resolve(cache).toString());
        }
        PrintStream out = System.out;
        int exit;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            exit = new CommandLine(command.apply(new Environment(env))).execute();
        } finally {
            System.setOut(out);
        }
        byte[] json = Files.readAllBytes(log);
        assertThat(json.length).isLessThan(TrainerEnv.TERMINATION_MESSAGE_LIMIT);
        return new Run<>(exit, ContractJson.read(new String(json, StandardCharsets.UTF_8), result));
    }

    static Run<PrepareResult> prepare(String prefix, String pin, String cache) throws Exception {
        return run(new PrepareTask("demo", "ns", 1, new StorageRef(s3.endpoint(), "us-east-1"), "s3://run/" + prefix, pin),
                PrepareResult.class, PrepareCommand::new, cache);
    }

    @Test
    void prepareRecordsEveryFileOfTheQuickstartBaseModel() throws Exception {
        Run<PrepareResult> miss = prepare("models/quickstart", null, "pvc");
        assertThat(miss.exit()).as(String.valueOf(miss.result())).isZero();
        List<ModelFile> expected = new ArrayList<>();
        try (Stream<Path> files = Files.list(BASE)) {
            for (Path f : files.sorted().toList()) {
                expected.add(new ModelFile(f.getFileName().toString(), sha256(f), Files.size(f)));
            }
        }
        assertThat(miss.result().files()).usingRecursiveFieldByFieldElementComparator().containsExactlyElementsOf(expected);
        assertThat(miss.result().cache()).isEqualTo("miss");

        Run<PrepareResult> hit = prepare("models/quickstart", sha256(BASE.resolve("model.safetensors")), "pvc");
        assertThat(hit.result().cache()).as("hashed once, from the cache").isEqualTo("hit");
        assertThat(hit.result().files()).usingRecursiveFieldByFieldElementComparator().containsExactlyElementsOf(expected);

        String pin = "0".repeat(64);
        Run<PrepareResult> pinned = prepare("models/quickstart", pin, null);
        assertThat(pinned.exit()).isEqualTo(1);
        assertThat(pinned.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(pinned.result().message()).contains(pin, sha256(BASE.resolve("model.safetensors")));
    }

    @Test
    void prepareRefusesWhatIsNotACheckpoint() throws Exception {
        upload("models/no-config/model.safetensors", BASE.resolve("model.safetensors"));
        Run<PrepareResult> noConfig = prepare("models/no-config", null, null);
        assertThat(noConfig.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(noConfig.result().message()).contains("no config.json under s3://run/models/no-config");

        upload("models/no-weights/config.json", BASE.resolve("config.json"));
        Run<PrepareResult> noWeights = prepare("models/no-weights", null, null);
        assertThat(noWeights.result().message()).contains("no weights under s3://run/models/no-weights");

        Path small = Files.writeString(root.resolve("small"), "x");
        upload("models/crowded/config.json", small);
        upload("models/crowded/model.safetensors", small);
        for (int i = 0; i < 40; i++) {
            upload("models/crowded/notes-" + i + ".txt", small);
        }
        Run<PrepareResult> crowded = prepare("models/crowded", null, null);
        assertThat(crowded.exit()).isEqualTo(1);
        assertThat(crowded.result().reason()).isEqualTo("CheckpointInvalid");
        assertThat(crowded.result().message()).contains("holds 42 files", "keep only the checkpoint's files");
    }

    static Path adapter(String name) throws Exception {
        Path dir = Files.createDirectories(root.resolve(name));
        byte[] weights = new byte[4096];
        new Random(7).nextBytes(weights);
        Files.write(dir.resolve("adapter_model.safetensors"), weights);
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":4}");
        Files.writeString(dir.resolve("manifest.json"), "{}");
        for (String f : List.of("adapter_model.safetensors", "adapter_config.json", "manifest.json")) {
            upload("demo/round-0003/global/" + f, dir.resolve(f));
        }
        return dir;
    }

    static PublishTask publishTask(Map<String, String> recorded, String destination) {
        return new PublishTask("demo", "ns", 1, new StorageRef(s3.endpoint(), "us-east-1"), "s3://run/demo/round-0003/global",
                3, recorded, 4.25, "s3://run/models/quickstart", "s3://run/" + destination, null);
    }

    @Test
    void publishCopiesTheRecordedFilesToFinalAndVerifiesThem() throws Exception {
        Path dir = adapter("best");
        Map<String, String> recorded = Map.of("adapter_model.safetensors", sha256(dir.resolve("adapter_model.safetensors")),
                "adapter_config.json", sha256(dir.resolve("adapter_config.json")));
        Run<PublishResult> run = run(publishTask(recorded, "demo/final"), PublishResult.class, PublishCommand::new, null);

        assertThat(run.exit()).as(String.valueOf(run.result())).isZero();
        assertThat(keys("demo/final/")).containsExactlyInAnyOrder("demo/final/adapter_model.safetensors",
                "demo/final/adapter_config.json", "demo/final/manifest.json");
        assertThat(run.result().adapter()).isEqualTo("s3://run/demo/final");
        assertThat(run.result().sha256()).isEqualTo(recorded.get("adapter_model.safetensors"));
        assertThat(run.result().files()).containsAllEntriesOf(recorded).containsKey("manifest.json");
        Path manifest = root.resolve("final-manifest.json");
        s3.client().downloadObject(io.minio.DownloadObjectArgs.builder().bucket("run").object("demo/final/manifest.json")
                .filename(manifest.toString()).build());
        assertThat(sha256(manifest)).isEqualTo(run.result().files().get("manifest.json"));
        JsonNode m = ContractJson.mapper().readTree(manifest.toFile());
        assertThat(m.get("run").asText()).isEqualTo("demo");
        assertThat(m.get("namespace").asText()).isEqualTo("ns");
        assertThat(m.get("round").asInt()).isEqualTo(3);
        assertThat(m.get("baseModel").asText()).isEqualTo("s3://run/models/quickstart");
        assertThat(m.get("evalLoss").asDouble()).isEqualTo(4.25);
        assertThat(m.get("files").get("adapter_model.safetensors").asText()).isEqualTo(recorded.get("adapter_model.safetensors"));
        assertThat(m.get("publishedAt").asText()).isNotBlank();

        Path tampered = Files.writeString(root.resolve("tampered-config.json"), "{\"peft_type\":\"LORA\",\"r\":64}");
        upload("demo/round-0003/global/adapter_config.json", tampered);
        Run<PublishResult> refused = run(publishTask(recorded, "demo2/final"), PublishResult.class, PublishCommand::new, null);
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.result().reason()).isEqualTo("InputTampered");
        assertThat(refused.result().message()).contains("s3://run/demo/round-0003/global/adapter_config.json",
                sha256(tampered), recorded.get("adapter_config.json"));
        assertThat(keys("demo2/")).as("nothing published").isEmpty();
    }

    @Test
    void publishWritesTheModelCardAsReadmeAndRecordsItsHash() throws Exception {
        Path dir = adapter("carded");
        Map<String, String> recorded = Map.of("adapter_model.safetensors", sha256(dir.resolve("adapter_model.safetensors")),
                "adapter_config.json", sha256(dir.resolve("adapter_config.json")));
        io.fedtune.api.contract.ModelCard card = new io.fedtune.api.contract.ModelCard("demo", "s3://run/models/quickstart",
                List.of("hospital-a", "hospital-b"), 5, "FedAvg", 32, 64.0, List.of("q_proj", "v_proj"), 2.5, 1e-5, "RougeL",
                List.of(new io.fedtune.api.contract.ModelCard.EvalRow("in-domain", "Generation",
                                new java.util.TreeMap<>(Map.of("ExactMatch", 0.25, "Loss", 1.8, "RougeL", 0.4123))),
                        new io.fedtune.api.contract.ModelCard.EvalRow("out-of-domain", "Classification",
                                new java.util.TreeMap<>(Map.of("Accuracy", 0.7, "AccuracyNorm", 0.72, "Loss", 2.2)))));
        PublishTask plain = publishTask(recorded, "carded/final");
        PublishTask task = new PublishTask(plain.run(), plain.namespace(), plain.attempt(), plain.storage(), plain.source(), plain.round(),
                plain.sourceSha256(), plain.evalLoss(), plain.baseModel(), plain.destination(), card);
        Run<PublishResult> run = run(task, PublishResult.class, PublishCommand::new, null);

        assertThat(run.exit()).as(String.valueOf(run.result())).isZero();
        assertThat(keys("carded/final/")).containsExactlyInAnyOrder("carded/final/adapter_model.safetensors",
                "carded/final/adapter_config.json", "carded/final/manifest.json", "carded/final/README.md");
        Path readme = root.resolve("carded-README.md");
        s3.client().downloadObject(io.minio.DownloadObjectArgs.builder().bucket("run").object("carded/final/README.md")
                .filename(readme.toString()).build());
        String md = Files.readString(readme);
        assertThat(md).startsWith("---\nbase_model: \"s3://run/models/quickstart\"\nlibrary_name: peft\n"
                + "tags:\n- fedtune\n- lora\n- federated-learning\n---\n");
        assertThat(md).contains("# demo", "Data owners (2): hospital-a, hospital-b", "Rounds completed: 5", "Aggregation strategy: FedAvg",
                "rank 32, alpha 64, target modules q_proj, v_proj", "(epsilon 2.5, delta 1.0E-5)", "global adapter of round 3",
                "chosen by RougeL",
                "| set | task | metrics |",
                "| in-domain | Generation | ExactMatch 0.2500, Loss 1.8000, RougeL 0.4123 |",
                "| out-of-domain | Classification | Accuracy 0.7000, AccuracyNorm 0.7200, Loss 2.2000 |",
                "PeftModel.from_pretrained(base, \"./demo\")",
                "vllm serve ./base-model --enable-lora --lora-modules demo=./demo --max-lora-rank 32",
                "s3://run/carded/final", "LoRA adapter", "trained with fedtune");
        assertThat(md).doesNotContain(s3.endpoint(), "secret", "accessKey");
        assertThat(run.result().files()).containsEntry("README.md", sha256(readme));
        Path manifest = root.resolve("carded-manifest.json");
        s3.client().downloadObject(io.minio.DownloadObjectArgs.builder().bucket("run").object("carded/final/manifest.json")
                .filename(manifest.toString()).build());
        JsonNode m = ContractJson.mapper().readTree(manifest.toFile());
        assertThat(m.get("files").get("README.md").asText()).isEqualTo(sha256(readme));
        assertThat(m.get("files").get("adapter_model.safetensors").asText()).isEqualTo(recorded.get("adapter_model.safetensors"));
    }
}
