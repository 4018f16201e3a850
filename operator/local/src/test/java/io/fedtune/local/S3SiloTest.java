package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.minio.errors.ErrorResponseException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
