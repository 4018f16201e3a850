package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.S3Uri;
import io.fedtune.operator.signing.Presigner;
import io.fedtune.operator.signing.StorageSigners;
import io.minio.GetObjectArgs;
import io.minio.MakeBucketArgs;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's presigned URLs against a real S3 server (s3proxy, as local mode runs it): a GET and a PUT work, a URL
 * used for another key, another method or after its expiry is refused, and local mode's signer files are its own.
 */
class PresignedUrlTest {
    @TempDir
    static Path tmp;
    static S3Silo silo;
    static StorageSigners signers;
    static Manifests manifests;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startSilo() throws Exception {
        String endpoint = "http://127.0.0.1:" + OperatorProcess.freePort();
        silo = S3Silo.start(RepoLayout.find().s3proxyJar(), endpoint, "run-key", "run-secret", tmp.resolve("s3"));
        silo.client().makeBucket(MakeBucketArgs.builder().bucket("runs").build());
        byte[] body = "global adapter".getBytes(StandardCharsets.UTF_8);
        silo.client().putObject(PutObjectArgs.builder().bucket("runs").object("r/round-0001/global/adapter_model.safetensors")
                .stream(new ByteArrayInputStream(body), body.length, -1).build());
        manifests = new Manifests(Manifests.parse("""
                apiVersion: v1
                kind: Secret
                metadata: {name: run-storage}
                stringData: {accessKeyId: run-key, secretAccessKey: run-secret}
                ---
                apiVersion: fedtune.io/v1alpha1
                kind: FederatedRun
                metadata: {name: r}
                spec:
                  baseModel: {uri: "s3://runs/base"}
                  storage: {endpoint: "%s", bucket: runs, credentialsSecret: {name: run-storage}}
                """.formatted(endpoint)));
        String config = SiloSigners.write(manifests, List.of(silo), tmp.resolve("signers"));
        signers = StorageSigners.parse(config, Clock.systemUTC());
    }

    @AfterAll
    static void stopSilo() {
        if (silo != null) {
            silo.close();
        }
    }

    @Test
    void aPresignedGetAndPutWorkAndNothingElse() throws Exception {
        Presigner presigner = signers.forEndpoint(silo.endpoint()).orElseThrow();
        Instant in5Minutes = Instant.now().plus(Duration.ofMinutes(5));
        String get = presigner.presign(Presigner.Method.GET, new S3Uri("runs", "r/round-0001/global/adapter_model.safetensors"),
                in5Minutes).url();
        String put = presigner.presign(Presigner.Method.PUT, new S3Uri("runs", "r/round-0002/shards/a/attempt-1/manifest.json"),
                in5Minutes).url();

        assertThat(send(HttpRequest.newBuilder(URI.create(get)).GET())).isEqualTo("200 global adapter");
        assertThat(send(HttpRequest.newBuilder(URI.create(put)).PUT(HttpRequest.BodyPublishers.ofString("{}")))).startsWith("200");
        try (var in = silo.client().getObject(GetObjectArgs.builder().bucket("runs")
                .object("r/round-0002/shards/a/attempt-1/manifest.json").build())) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("{}");
        }

        String otherShard = put.replace("/shards/a/", "/shards/b/");
        assertThat(send(HttpRequest.newBuilder(URI.create(otherShard)).PUT(HttpRequest.BodyPublishers.ofString("{}"))))
                .as("a URL whose key is edited").startsWith("403");
        String overwriteGlobal = get.replace("round-0001/global/adapter_model.safetensors", "round-0001/global/adapter_config.json");
        assertThat(send(HttpRequest.newBuilder(URI.create(overwriteGlobal)).GET())).startsWith("403");
        assertThat(send(HttpRequest.newBuilder(URI.create(get)).PUT(HttpRequest.BodyPublishers.ofString("tampered"))))
                .as("a GET URL used to write").startsWith("403");
        String list = get.replace("/r/round-0001/global/adapter_model.safetensors", "");
        assertThat(send(HttpRequest.newBuilder(URI.create(list)).GET())).as("listing the bucket").startsWith("403");
    }

    @Test
    void anExpiredUrlIsRefused() throws Exception {
        Instant signedAt = Instant.now().minus(Duration.ofMinutes(10));
        Presigner past = StorageSigners.parse("[{\"endpoint\":\"" + silo.endpoint() + "\",\"dir\":\"" + tmp.resolve("signers/0") + "\"}]",
                Clock.fixed(signedAt, ZoneOffset.UTC)).forEndpoint(silo.endpoint()).orElseThrow();
        String get = past.presign(Presigner.Method.GET, new S3Uri("runs", "r/round-0001/global/adapter_model.safetensors"),
                signedAt.plusSeconds(60)).url();

        assertThat(send(HttpRequest.newBuilder(URI.create(get)).GET())).startsWith("403");
    }

    @Test
    void localModeWritesTheRunStoragesKeysForItsOwnUserOnly() throws Exception {
        Path signer = tmp.resolve("signers/0");
        assertThat(Files.readString(signer.resolve("access-key-id"))).isEqualTo("run-key");
        assertThat(Files.readString(signer.resolve("secret-access-key"))).isEqualTo("run-secret");
        for (String file : List.of("access-key-id", "secret-access-key")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(signer.resolve(file)))).isEqualTo("rw-------");
        }
        assertThat(signers.signs(silo.endpoint())).isTrue();
    }

    private String send(HttpRequest.Builder request) throws Exception {
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }
}
