package io.fedtune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fedtune.api.contract.S3Uri;
import io.fedtune.trainer.cli.S3ProxyServer;
import io.fedtune.trainer.model.CheckpointInvalidException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The base model cache that outlives pods, against a real S3 server: hit, miss, a corrupt entry, two pods at once. */
class ModelCacheTest {
    private static final S3Uri PREFIX = S3Uri.parse("s3://run/models/tiny/");
    @TempDir
    static Path root;
    static S3ProxyServer s3;
    static ObjectStore store;
    static byte[] weights;
    static String sha;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start(Files.createDirectories(root.resolve("s3")));
        s3.makeBucket("run");
        store = new ObjectStore(s3.endpoint(), null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
        weights = new byte[200_000];
        new Random(3).nextBytes(weights);
        Path model = Files.createDirectories(root.resolve("model"));
        Files.write(model.resolve("model.safetensors"), weights);
        Files.writeString(model.resolve("config.json"), "{}");
        Files.writeString(model.resolve("tokenizer.json"), "{}");
        sha = Sha256.of(model.resolve("model.safetensors"));
        for (String f : List.of("model.safetensors", "config.json", "tokenizer.json")) {
            store.upload(model.resolve(f), PREFIX.child(f), Map.of());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
    }

    private static ModelCache cache(String name) {
        return new ModelCache(root.resolve(name), true, new PrintStream(new ByteArrayOutputStream()));
    }

    @Test
    void aMissFillsTheCacheAndTheNextPodHitsIt() throws Exception {
        CacheUse.Checkpoint first = cache("shared").fetch(store, PREFIX, sha);
        assertThat(first.cache()).isEqualTo(CacheUse.MISS);
        assertThat(first.dir()).isEqualTo(root.resolve("shared/models").resolve(sha));
        assertThat(Files.readAllBytes(first.dir().resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(first.dir().resolve("tokenizer.json")).exists();

        CacheUse.Checkpoint second = cache("shared").fetch(store, PREFIX, sha);
        assertThat(second).isEqualTo(new CacheUse.Checkpoint(first.dir(), CacheUse.HIT));
        assertThat(cache("shared").fetch(store, PREFIX, null).cache()).as("no digest expected: one download to learn it")
                .isEqualTo(CacheUse.MISS);
        assertThat(cache("shared").fetch(store, PREFIX, null)).as("then the weights' ETag finds the entry")
                .isEqualTo(new CacheUse.Checkpoint(first.dir(), CacheUse.HIT));
        assertThatThrownBy(() -> cache("shared").fetch(store, PREFIX, "../../etc")).isInstanceOf(IllegalArgumentException.class);
        assertThat(leftovers("shared")).isEmpty();
    }

    @Test
    void aCorruptEntryIsDiscardedAndFetchedAgainNeverUsed() throws Exception {
        Path entry = cache("corrupt").fetch(store, PREFIX, sha).dir();
        byte[] bitRot = weights.clone();
        bitRot[1000] ^= 1;
        Files.write(entry.resolve("model.safetensors"), bitRot);

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        CacheUse.Checkpoint again = new ModelCache(root.resolve("corrupt"), true, new PrintStream(log, true)).fetch(store, PREFIX, sha);
        assertThat(again.cache()).isEqualTo(CacheUse.MISS);
        assertThat(Files.readAllBytes(again.dir().resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(log.toString()).contains("discarding the corrupt cached base model");

        Files.delete(entry.resolve(ModelCache.SUMS));
        assertThat(cache("corrupt").fetch(store, PREFIX, sha).cache()).as("an entry without its listing is incomplete")
                .isEqualTo(CacheUse.MISS);
        assertThat(leftovers("corrupt")).isEmpty();
    }

    @Test
    void twoPodsFillingTheSameEntryDownloadItOnce() throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        Callable<CacheUse.Checkpoint> pod = () -> {
            start.await();
            return cache("concurrent").fetch(store, PREFIX, sha);
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<CacheUse.Checkpoint> a = pool.submit(pod);
            Future<CacheUse.Checkpoint> b = pool.submit(pod);
            start.countDown();
            List<CacheUse.Checkpoint> both = List.of(a.get(), b.get());
            assertThat(both).extracting(CacheUse.Checkpoint::cache).containsExactlyInAnyOrder(CacheUse.MISS, CacheUse.HIT);
            assertThat(both).extracting(CacheUse.Checkpoint::dir).containsOnly(root.resolve("concurrent/models").resolve(sha));
        } finally {
            pool.shutdownNow();
        }
        assertThat(Files.readAllBytes(root.resolve("concurrent/models").resolve(sha).resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(leftovers("concurrent")).isEmpty();
    }

    @Test
    void theScratchDirectoryIsNoCacheAndAWrongDigestIsRefused() throws Exception {
        ModelCache scratch = new ModelCache(root.resolve("scratch"), false, new PrintStream(new ByteArrayOutputStream()));
        assertThat(scratch.fetch(store, PREFIX, sha).cache()).isEqualTo(CacheUse.OFF);
        assertThat(scratch.fetch(store, PREFIX, sha).cache()).isEqualTo(CacheUse.OFF);
        assertThatThrownBy(() -> cache("wrong").fetch(store, PREFIX, "0".repeat(64)))
                .isInstanceOf(CheckpointInvalidException.class).hasMessageContaining("expected " + "0".repeat(64));
        assertThat(leftovers("wrong")).isEmpty();
        assertThat(root.resolve("wrong/models").resolve("0".repeat(64))).doesNotExist();
    }

    /** Temporary or discarded folders left in the cache. */
    private static List<String> leftovers(String name) throws Exception {
        try (Stream<Path> s = Files.list(root.resolve(name).resolve("models"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        }
    }
}
