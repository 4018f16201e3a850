package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.minio.errors.ErrorResponseException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A silo is a real S3 server: it serves what was seeded and refuses anyone else's credentials. */
class S3SiloTest {

    @Test
    void seedsFilesAndFoldersAndRefusesOtherCredentials(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data.resolve("shard-a"));
        Files.writeString(data.resolve("shard-a/train.jsonl"), "{\"text\":\"hello\"}\n");
        Path model = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{}");
        String endpoint = "http://127.0.0.1:" + OperatorProcess.freePort();
        var objects = new LinkedHashSet<>(List.of("s3://shard-a/train.jsonl", "s3://models/base"));
        Silo plan = new Silo(endpoint, "shard-a-key", "shard-a-secret", "shard shard-a", objects);

        try (S3Silo silo = S3Silo.start(RepoLayout.find().s3proxyJar(), endpoint, plan.accessKey(), plan.secretKey(), tmp.resolve("s3"))) {
            new ObjectSeeder(data, Map.of("s3://models/base", model)).seed(silo, plan);

            assertThat(read(silo.client(), "shard-a", "train.jsonl")).isEqualTo("{\"text\":\"hello\"}\n");
            assertThat(read(silo.client(), "models", "base/config.json")).isEqualTo("{}");
            MinioClient intruder = MinioClient.builder().endpoint(endpoint).credentials("shard-a-key", "wrong").build();
            assertThatThrownBy(() -> read(intruder, "shard-a", "train.jsonl"))
                    .isInstanceOf(ErrorResponseException.class)
                    .hasMessageContaining("signature");
        }
    }

    @Test
    void aTakenPortIsRefusedNamingThePortAndTheProcessHoldingIt(@TempDir Path tmp) throws Exception {
        try (ServerSocket held = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = held.getLocalPort();
            String endpoint = "http://127.0.0.1:" + port;

            assertThatThrownBy(() -> S3Silo.start(RepoLayout.find().s3proxyJar(), endpoint, "k", "s", tmp.resolve("s3")))
                    .isInstanceOf(SiloRefused.class)
                    .hasMessageContaining("port " + port)
                    .hasMessageContaining("pid " + ProcessHandle.current().pid() + " (")
                    .hasMessageContaining(ProcessHandle.current().info().command().orElse("java"));
            assertThat(tmp.resolve("s3")).as("nothing started").doesNotExist();
        }
    }

    @Test
    void aForeignHttpServerOnThePortIsRefusedAndNeverTalkedTo(@TempDir Path tmp) throws Exception {
        HttpServer foreign = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        List<String> requests = new CopyOnWriteArrayList<>();
        foreign.createContext("/", exchange -> {
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        foreign.start();
        try {
            String endpoint = "http://127.0.0.1:" + foreign.getAddress().getPort();

            assertThatThrownBy(() -> S3Silo.start(RepoLayout.find().s3proxyJar(), endpoint, "k", "s", tmp.resolve("s3")))
                    .isInstanceOf(SiloRefused.class)
                    .hasMessageContaining("port " + foreign.getAddress().getPort())
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
            assertThat(requests).as("requests the foreign server got").isEmpty();
        } finally {
            foreign.stop(0);
        }
    }

    @Test
    void anS3ServerServingAnotherFolderFailsTheSilosIdentityCheck(@TempDir Path tmp) throws Exception {
        String endpoint = "http://127.0.0.1:" + OperatorProcess.freePort();
        try (S3Silo earlierRun = S3Silo.start(RepoLayout.find().s3proxyJar(), endpoint, "k", "s", tmp.resolve("earlier"))) {
            Path ours = Files.createDirectories(tmp.resolve("ours/objects"));
            SiloIdentity identity = SiloIdentity.plant(ours);

            assertThatThrownBy(() -> identity.check(earlierRun.client(), endpoint, ours))
                    .isInstanceOf(SiloRefused.class)
                    .hasMessageContaining("serves another folder than " + ours);
        }
    }

    @Test
    void twoOwnersWithDifferentCredentialsCannotShareAnEndpoint() throws Exception {
        Manifests m = new Manifests(Manifests.parse("""
                apiVersion: v1
                kind: Secret
                metadata: {name: run-s3}
                stringData: {accessKeyId: run, secretAccessKey: run-secret}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: a-s3}
                stringData: {accessKeyId: a, secretAccessKey: a-secret}
                ---
                apiVersion: fedtune.io/v1alpha1
                kind: ClientShard
                metadata: {name: a}
                spec:
                  data:
                    credentialsSecret: {name: a-s3}
                    train: {uri: s3://a/train.jsonl}
                ---
                apiVersion: fedtune.io/v1alpha1
                kind: FederatedRun
                metadata: {name: r}
                spec:
                  rounds: 1
                  baseModel: {uri: s3://models/base}
                  storage: {endpoint: "http://127.0.0.1:9000", bucket: runs, credentialsSecret: {name: run-s3}}
                """));

        assertThatThrownBy(() -> SiloPlan.of(m))
                .hasMessageContaining("shard a")
                .hasMessageContaining("different credentials")
                .hasMessageContaining("spec.data.endpoint");
    }

    private static String read(MinioClient s3, String bucket, String key) throws Exception {
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
