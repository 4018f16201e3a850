package io.fedtune.operator.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fedtune.api.contract.S3Uri;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PresignerTest {
    private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    /** AWS's own example of a presigned GET (S3 API reference, "Authenticating Requests: Using Query Parameters"). */
    @Test
    void signsAwsDocumentedExample() {
        Presigner presigner = new Presigner(java.net.URI.create("https://examplebucket.s3.amazonaws.com"), "us-east-1",
                () -> null, CLOCK);
        String query = presigner.signedQuery("GET", "examplebucket.s3.amazonaws.com", "/test.txt",
                Instant.parse("2013-05-24T00:00:00Z"), 86400,
                new SigningKeys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", null));

        assertThat(query).isEqualTo("X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    }

    @Test
    void presignsWithoutTalkingToTheEndpoint(@TempDir Path dir) throws Exception {
        keys(dir, "AK", "SK", null);
        try (ServerSocketChannel storage = ServerSocketChannel.open()) {
            storage.bind(new InetSocketAddress("127.0.0.1", 0));
            storage.configureBlocking(false);
            String endpoint = "http://127.0.0.1:" + storage.socket().getLocalPort();
            Presigner presigner = signers(endpoint, dir).forEndpoint(endpoint).orElseThrow();

            Presigner.Signed get = presigner.presign(Presigner.Method.GET, new S3Uri("b", "run/x y.json"), NOW.plusSeconds(60));

            assertThat(get.url()).startsWith(endpoint + "/b/run/x%20y.json?X-Amz-Algorithm=AWS4-HMAC-SHA256");
            assertThat(get.expires()).isEqualTo(NOW.plusSeconds(60));
            assertThat(storage.accept()).as("no connection was made to the storage endpoint").isNull();
        }
    }

    @Test
    void readsTheMountedKeysAtEachSigningAndCarriesTheSessionToken(@TempDir Path dir) throws Exception {
        keys(dir, "first-key", "first-secret", null);
        Presigner presigner = signers("http://minio:9000", dir).forEndpoint("http://minio:9000").orElseThrow();
        S3Uri object = new S3Uri("b", "k");

        assertThat(presigner.presign(Presigner.Method.PUT, object, NOW.plusSeconds(60)).url())
                .contains("X-Amz-Credential=first-key%2F").doesNotContain("X-Amz-Security-Token").doesNotContain("first-secret");
        keys(dir, "rotated-key", "rotated-secret", "the/session+token");
        assertThat(presigner.presign(Presigner.Method.PUT, object, NOW.plusSeconds(60)).url())
                .contains("X-Amz-Credential=rotated-key%2F").contains("X-Amz-Security-Token=the%2Fsession%2Btoken");

        Files.delete(dir.resolve(SigningKeys.SECRET_ACCESS_KEY));
        assertThatThrownBy(() -> presigner.presign(Presigner.Method.GET, object, NOW.plusSeconds(60)))
                .hasMessageContaining(dir.resolve("secret-access-key").toString()).hasMessageNotContaining("rotated-key");
    }

    @Test
    void theExpiryStaysWithinSigV4sLimits(@TempDir Path dir) throws Exception {
        keys(dir, "AK", "SK", null);
        Presigner presigner = signers("http://minio:9000", dir).forEndpoint("http://minio:9000").orElseThrow();
        S3Uri object = new S3Uri("b", "k");

        assertThat(presigner.presign(Presigner.Method.GET, object, NOW.minusSeconds(5)).expires()).isEqualTo(NOW.plusSeconds(1));
        assertThat(presigner.presign(Presigner.Method.GET, object, NOW.plus(Duration.ofDays(30))).expires())
                .isEqualTo(NOW.plus(Presigner.MAX_EXPIRY));
    }

    @Test
    void endpointsAreMatchedAsTheSameServer(@TempDir Path dir) {
        StorageSigners signers = signers("http://MinIO.storage:9000/", dir);

        assertThat(signers.signs("http://minio.storage:9000")).isTrue();
        assertThat(signers.signs("http://minio.storage:9001")).isFalse();
        assertThat(signers.signs("https://minio.storage:9000")).isFalse();
        assertThat(StorageSigners.parse("[{\"endpoint\":\"https://s3.example\",\"dir\":\"/d\"}]", CLOCK)
                .signs("https://s3.example:443")).isTrue();
        assertThat(StorageSigners.parse("", CLOCK).signs("http://minio.storage:9000")).isFalse();
        assertThatThrownBy(() -> StorageSigners.parse("{\"endpoint\":1}", CLOCK)).hasMessageContaining("FEDTUNE_SIGNERS");
    }

    @Test
    void neitherKeysNorSignedUrlsPrintTheirSecrets() {
        assertThat(new SigningKeys("AK", "the-secret", "the-token").toString()).doesNotContain("the-secret", "the-token");
        assertThat(new Presigner.Signed("http://h/b/k?X-Amz-Signature=abc", NOW).toString()).doesNotContain("abc");
    }

    private static StorageSigners signers(String endpoint, Path dir) {
        return StorageSigners.of(List.of(new StorageSigners.Signer(endpoint, null, dir.toString())), CLOCK);
    }

    static void keys(Path dir, String accessKey, String secretKey, String sessionToken) throws Exception {
        Files.writeString(dir.resolve(SigningKeys.ACCESS_KEY_ID), accessKey + "\n");
        Files.writeString(dir.resolve(SigningKeys.SECRET_ACCESS_KEY), secretKey);
        if (sessionToken != null) {
            Files.writeString(dir.resolve(SigningKeys.SESSION_TOKEN), sessionToken);
        }
    }
}
