package io.fedtune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fedtune.api.contract.S3Uri;
import io.fedtune.trainer.cli.S3ProxyServer;
import io.minio.credentials.StaticProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transient storage errors are retried for a time, not a count: an outage of the real server (stopped, then restarted on
 * its port) longer than the old four tries (~3.5 s) is ridden out; a spent retry time is StorageUnreachable naming the
 * endpoint; 5xx and throttling are retried, other 4xx are final.
 */
class ObjectStoreRetryTest {
    private static final S3Uri OBJECT = S3Uri.parse("s3://run/round-0001/global/manifest.json");
    /** Past the old budget: four tries with 0.5, 1 and 2 s between them. */
    private static final Duration OLD_BUDGET = Duration.ofMillis(3500);

    @TempDir
    Path tmp;

    record Retried(S3Uri uri, int attempt, Duration failingFor) {
    }

    @Test
    void aCallRidesOutAnOutageLongerThanTheOldFourTries() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(tmp.resolve("s3")))) {
            s3.makeBucket("run");
            Files.writeString(tmp.resolve("manifest.json"), "{}");
            new ObjectStore(s3.endpoint(), null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                    .upload(tmp.resolve("manifest.json"), OBJECT, Map.of());

            List<Retried> retries = new CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicBoolean restarted = new java.util.concurrent.atomic.AtomicBoolean();
            ObjectStore store = new ObjectStore(s3.endpoint(), null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY,
                    new ObjectStore.Retry(Duration.ofSeconds(20), Duration.ofMillis(200), Duration.ofSeconds(1)),
                    (uri, attempt, failingFor, cause) -> {
                        retries.add(new Retried(uri, attempt, failingFor));
                        if (failingFor.compareTo(OLD_BUDGET.plusSeconds(1)) > 0 && !restarted.getAndSet(true)) {
                            try {
                                s3.restart(); // the outage ends: the same port, the same objects
                            } catch (Exception e) {
                                throw new AssertionError(e);
                            }
                        }
                    });
            s3.stop();

            store.download(OBJECT, tmp.resolve("down/manifest.json"));

            assertThat(Files.readString(tmp.resolve("down/manifest.json"))).isEqualTo("{}");
            assertThat(retries).allSatisfy(r -> assertThat(r.uri()).isEqualTo(OBJECT));
            assertThat(retries).last().satisfies(r -> {
                assertThat(r.failingFor()).isGreaterThan(OLD_BUDGET);
                assertThat(r.attempt()).isGreaterThan(4);
            });
        }
    }

    @Test
    void aSpentRetryTimeIsUnreachableNamingTheEndpointAndNoCredentials() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + closed;
        List<Retried> retries = new CopyOnWriteArrayList<>();
        ObjectStore store = new ObjectStore(endpoint, "us-east-1", "key-id", "very-secret",
                new ObjectStore.Retry(Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMillis(400)),
                (uri, attempt, failingFor, cause) -> retries.add(new Retried(uri, attempt, failingFor)));
        long start = System.nanoTime();

        assertThatThrownBy(() -> store.download(OBJECT, tmp.resolve("x")))
                .isInstanceOfSatisfying(StorageException.class, e -> {
                    assertThat(e.kind()).isEqualTo(StorageException.Kind.UNREACHABLE);
                    assertThat(e.getMessage()).contains("object storage at " + endpoint + " is unreachable", OBJECT.toString(),
                            "retry time 2 s").doesNotContain("very-secret").doesNotContain("key-id");
                });

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofSeconds(2)).isLessThan(Duration.ofSeconds(10));
        assertThat(retries).last().satisfies(r -> assertThat(r.failingFor()).isLessThan(Duration.ofSeconds(2)));
    }

    @Test
    void serverErrorsAndThrottlingAreRetriedAndOther4xxAreFinal() throws Exception {
        try (CaptureServer server = CaptureServer.http()) {
            List<Retried> retries = new CopyOnWriteArrayList<>();
            ObjectStore store = new ObjectStore(server.endpoint(), "us-east-1", new StaticProvider("k", "s", null),
                    CaBundle.httpClient(null), new ObjectStore.Retry(Duration.ofSeconds(30), Duration.ofMillis(10),
                    Duration.ofMillis(20)), (uri, attempt, failingFor, cause) -> retries.add(new Retried(uri, attempt, failingFor)));
            server.scripted.add(new CaptureServer.Answer(503, "ServiceUnavailable"));
            server.scripted.add(new CaptureServer.Answer(429, "TooManyRequests"));
            server.scripted.add(new CaptureServer.Answer(503, "SlowDown"));
            server.scripted.add(new CaptureServer.Answer(500, "InternalError"));

            // after four transient answers, the default answer (NoSuchKey) is final as it always was
            assertThatThrownBy(() -> store.list(S3Uri.parse("s3://run/round-0001/")))
                    .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.NOT_FOUND));
            assertThat(retries).hasSize(4);
            assertThat(server.requests).hasSize(5);

            retries.clear();
            server.requests.clear();
            server.scripted.add(new CaptureServer.Answer(400, "InvalidArgument"));
            assertThatThrownBy(() -> store.list(S3Uri.parse("s3://run/round-0001/")))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.kind()).isEqualTo(StorageException.Kind.UNREACHABLE);
                        assertThat(e.getMessage()).contains("InvalidArgument");
                    });
            assertThat(retries).isEmpty();
            assertThat(server.requests).hasSize(1);
        }
    }

    @Test
    void messagesNameTheEndpointWithoutUserInfo() {
        assertThat(ObjectStore.shown("https://user:pass@minio.storage:9000")).isEqualTo("https://minio.storage:9000");
        assertThat(ObjectStore.shown("http://minio.storage:9000/")).isEqualTo("http://minio.storage:9000/");
    }
}
