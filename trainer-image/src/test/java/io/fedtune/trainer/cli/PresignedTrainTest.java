package io.fedtune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.DataFormat;
import io.fedtune.api.v1alpha1.DatasetRef;
import io.fedtune.api.v1alpha1.LocalTrainingSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.TargetModule;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.ListObjectsArgs;
import io.minio.UploadObjectArgs;
import io.minio.http.Method;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A trainer that holds only presigned URLs for the run's storage, against s3proxy checking their signatures: it trains
 * on the quickstart base model and PUTs its update; an edited key, a replaced file, an expired URL are each refused by
 * name; no signature reaches anything it prints or writes.
 */
class PresignedTrainTest {
    static final Path BASE = Path.of("base-model");
    static final Path TRAIN = Path.of("../examples/quickstart/data/shard-a/train.jsonl");
    static final String OUTPUT = "demo/round-0001/shards/shard-a/attempt-1";
    @TempDir
    static Path root;
    static S3ProxyServer s3;
    static List<String> baseFiles;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start(Files.createDirectories(root.resolve("s3")));
        s3.makeBucket("run");
        s3.makeBucket("silo");
        try (Stream<Path> files = Files.list(BASE)) {
            baseFiles = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        for (String prefix : List.of("models/quickstart/", "models/replaced/")) {
            for (String f : baseFiles) {
                upload("run", prefix + f, BASE.resolve(f));
            }
        }
        upload("silo", "shard-a/train.jsonl", TRAIN);
        Path other = Files.write(root.resolve("other-update"), new byte[] {1, 2, 3});
        upload("run", "demo/round-0001/shards/shard-b/attempt-1/adapter_model.safetensors", other);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        s3.close();
    }

    static void upload(String bucket, String key, Path file) throws Exception {
        s3.client().uploadObject(UploadObjectArgs.builder().bucket(bucket).object(key).filename(file.toString()).build());
    }

    static String sign(Method method, String key, int seconds) throws Exception {
        return s3.client().getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder().method(method).bucket("run")
                .object(key).region("us-east-1").expiry(seconds).build());
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** GETs for every base model file under prefix with its SHA-256 as recorded before. */
    static Map<String, PresignedAccess.Get> baseModel(String prefix) throws Exception {
        Map<String, PresignedAccess.Get> gets = new TreeMap<>();
        for (String f : baseFiles) {
            gets.put(f, new PresignedAccess.Get(sign(Method.GET, prefix + f, 600), sha256(BASE.resolve(f))));
        }
        return gets;
    }

    static Map<String, String> outputs(String output) throws Exception {
        Map<String, String> puts = new TreeMap<>();
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "manifest.json")) {
            puts.put(f, sign(Method.PUT, output + "/" + f, 600));
        }
        return puts;
    }

    static String in(int seconds) {
        return Instant.now().plusSeconds(seconds).toString();
    }

    static TrainTask task(String baseModel, String globalAdapter, String output, PresignedAccess access) {
        LoraSpec lora = new LoraSpec();
        lora.rank = 4;
        lora.dropout = 0.0;
        lora.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
        LocalTrainingSpec t = new LocalTrainingSpec();
        t.steps = 3;
        t.batchSize = 4;
        t.maxSequenceLength = 64;
        return new TrainTask("demo", "ns", globalAdapter == null ? 1 : 2, "shard-a", 1, new StorageRef(s3.endpoint(), "us-east-1"),
                "s3://run/" + baseModel, null, globalAdapter == null ? null : "s3://run/" + globalAdapter, null,
                "s3://run/" + output, lora, t, new StorageRef(s3.endpoint(), "us-east-1"),
                new DatasetRef("s3://silo/shard-a/train.jsonl", DataFormat.Text), null, access);
    }

    record Run(int exit, TrainResult result, String printed) {
    }

    /** The task with only the shard's data keys: no FEDTUNE_STORAGE_* at all. */
    static Run train(TrainTask task) throws Exception {
        Path log = Files.createTempFile(root, "termination", ".json");
        Path work = Files.createTempDirectory(root, "work");
        Map<String, String> env = new HashMap<>(Map.of(TrainerEnv.TASK, ContractJson.write(task), TrainerEnv.ROLE, "train",
                TrainerEnv.DATA_ACCESS_KEY, S3ProxyServer.ACCESS_KEY, TrainerEnv.DATA_SECRET_KEY, S3ProxyServer.SECRET_KEY,
                TrainerEnv.TERMINATION_LOG, log.toString(), TrainerEnv.WORK_DIR, work.toString(),
                TrainerEnv.STORAGE_RETRY_SECONDS, "2"));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = System.out;
        PrintStream err = System.err;
        int exit;
        try {
            PrintStream both = new PrintStream(printed, true, StandardCharsets.UTF_8);
            System.setOut(both);
            System.setErr(both);
            exit = new CommandLine(new TrainCommand(new Environment(env))).execute();
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String text = printed.toString(StandardCharsets.UTF_8);
        err.print(text);
        String json = Files.readString(log);
        StringBuilder written = new StringBuilder(json);
        try (Stream<Path> files = Files.walk(work)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                written.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            }
        }
        assertThat(task.access().baseModel().values()).as("the URLs carry signatures").allSatisfy(g ->
                assertThat(g.url()).contains("X-Amz-Signature="));
        assertThat(text).as("printed").doesNotContain("X-Amz-Signature").doesNotContain("X-Amz-Credential");
        assertThat(written).as("written").doesNotContain("X-Amz-Signature").doesNotContain("X-Amz-Credential");
        return new Run(exit, ContractJson.read(json, TrainResult.class), text);
    }

    static List<String> keys(String prefix) throws Exception {
        List<String> keys = new ArrayList<>();
        for (var r : s3.client().listObjects(ListObjectsArgs.builder().bucket("run").prefix(prefix).recursive(true).build())) {
            keys.add(r.get().objectName());
        }
        return keys;
    }

    @Test
    void aTaskWithOnlyUrlsTrainsAndPutsItsUpdate() throws Exception {
        Run run = train(task("models/quickstart", null, OUTPUT,
                new PresignedAccess(in(600), baseModel("models/quickstart/"), null, outputs(OUTPUT))));

        assertThat(run.exit()).as(run.printed()).isZero();
        assertThat(run.result().adapter()).isEqualTo("s3://run/" + OUTPUT);
        assertThat(keys(OUTPUT + "/")).containsExactlyInAnyOrder(OUTPUT + "/adapter_config.json",
                OUTPUT + "/adapter_model.safetensors", OUTPUT + "/manifest.json");
        Path back = root.resolve("back.safetensors");
        s3.client().downloadObject(io.minio.DownloadObjectArgs.builder().bucket("run")
                .object(OUTPUT + "/adapter_model.safetensors").filename(back.toString()).build());
        assertThat(sha256(back)).isEqualTo(run.result().sha256());
    }

    @Test
    void keysEditedInTheirUrlsAreRefusedByStorage() throws Exception {
        String global = "demo/round-0001/global";
        Path config = Files.writeString(root.resolve("adapter_config.json"), "{}");
        upload("run", global + "/adapter_config.json", config);
        upload("run", global + "/adapter_model.safetensors", root.resolve("other-update"));
        String signed = sign(Method.GET, global + "/adapter_model.safetensors", 600);
        Map<String, PresignedAccess.Get> globalFiles = Map.of(
                "adapter_config.json", new PresignedAccess.Get(sign(Method.GET, global + "/adapter_config.json", 600), sha256(config)),
                "adapter_model.safetensors", new PresignedAccess.Get(signed.replace(global + "/", "demo/round-0001/shards/shard-b/attempt-1/"), null));
        String output = "demo/round-0002/shards/shard-a/attempt-1";
        Run read = train(task("models/quickstart", global, output,
                new PresignedAccess(in(600), baseModel("models/quickstart/"), globalFiles, outputs(output))));
        assertThat(read.exit()).isEqualTo(1);
        assertThat(read.result().reason()).isEqualTo("AccessDenied");
        assertThat(read.result().message()).contains("denied access to s3://run/" + global + "/adapter_model.safetensors", "403");
        assertThat(keys("demo/round-0002/")).isEmpty();

        Map<String, String> puts = new TreeMap<>(outputs(OUTPUT + "-put"));
        puts.put("adapter_model.safetensors", puts.get("adapter_model.safetensors").replace(OUTPUT + "-put/", global + "/"));
        Run write = train(task("models/quickstart", null, OUTPUT + "-put",
                new PresignedAccess(in(600), baseModel("models/quickstart/"), null, puts)));
        assertThat(write.exit()).isEqualTo(1);
        assertThat(write.result().reason()).isEqualTo("AccessDenied");
        assertThat(write.result().message()).contains("denied access to s3://run/" + OUTPUT + "-put/adapter_model.safetensors");
        assertThat(sha256Of(global + "/adapter_model.safetensors")).as("the global adapter is untouched")
                .isEqualTo(sha256(root.resolve("other-update")));
    }

    static String sha256Of(String key) throws Exception {
        Path local = Files.createTempFile(root, "object", "");
        Files.delete(local);
        s3.client().downloadObject(io.minio.DownloadObjectArgs.builder().bucket("run").object(key).filename(local.toString()).build());
        return sha256(local);
    }

    @Test
    void aBaseModelFileReplacedAfterItsHashWasRecordedIsRefusedByName() throws Exception {
        Map<String, PresignedAccess.Get> recorded = baseModel("models/replaced/");
        Path replaced = Files.writeString(root.resolve("tokenizer.json"), "{\"model\":{}}");
        upload("run", "models/replaced/tokenizer.json", replaced);
        String output = "demo/round-0001/shards/shard-a/attempt-2";
        Run run = train(task("models/replaced", null, output, new PresignedAccess(in(600), recorded, null, outputs(output))));

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.result().reason()).isEqualTo("InputTampered");
        assertThat(run.result().message()).contains("s3://run/models/replaced/tokenizer.json", sha256(replaced),
                sha256(BASE.resolve("tokenizer.json")));
        assertThat(run.result().samples()).as("nothing trained").isNull();
        assertThat(keys(output + "/")).as("nothing uploaded").isEmpty();
    }

    @Test
    void anExpiredUrlIsAccessDeniedNamingTheExpiry() throws Exception {
        ZonedDateTime signedAt = ZonedDateTime.now(ZoneOffset.UTC).minusHours(1);
        String expires = signedAt.plusMinutes(1).toInstant().toString();
        Map<String, PresignedAccess.Get> gets = new TreeMap<>(baseModel("models/quickstart/"));
        for (String f : List.copyOf(gets.keySet())) {
            gets.put(f, new PresignedAccess.Get(expired("models/quickstart/" + f, signedAt), gets.get(f).sha256()));
        }
        String output = "demo/round-0001/shards/shard-a/attempt-3";
        Run run = train(task("models/quickstart", null, output, new PresignedAccess(expires, gets, null, outputs(output))));

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.result().reason()).isEqualTo("AccessDenied");
        assertThat(run.result().message()).contains("s3://run/models/quickstart/", "the presigned URLs expired at " + expires);
    }

    /** A GET signed an hour ago for one minute: a URL that storage itself finds expired. */
    static String expired(String key, ZonedDateTime signedAt) throws Exception {
        okhttp3.Request request = new okhttp3.Request.Builder().url(s3.endpoint() + "/run/" + key)
                .header("x-amz-date", signedAt.format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"))).get().build();
        return io.minio.Signer.presignV4(request, "us-east-1", S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, 60).toString();
    }
}
