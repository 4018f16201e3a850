package io.fedtune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fedtune.api.contract.S3Uri;
import io.fedtune.trainer.cli.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One behaviour for every location: a local path, a file:// URI and an s3:// URI answer alike. */
class StorageSessionTest {
    @TempDir
    static Path root;
    static S3ProxyServer s3;
    static ObjectStore store;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3ProxyServer.start(Files.createDirectories(root.resolve("s3")));
        s3.makeBucket("run");
        store = new ObjectStore(s3.endpoint(), null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
        Path adapter = Files.createDirectories(root.resolve("local/adapter"));
        Files.writeString(adapter.resolve("a.txt"), "a");
        Files.writeString(adapter.resolve("b.txt"), "b");
        for (String f : List.of("a.txt", "b.txt")) {
            store.upload(adapter.resolve(f), S3Uri.parse("s3://run/adapter/" + f), Map.of());
        }
        Files.createDirectories(root.resolve("local/empty"));
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
    }

    private static StorageSession session(String work) {
        return StorageSession.ofRunStore(store, root.resolve(work));
    }

    /** The same place named three ways. */
    private static List<String> locations(String local, String s3Key) {
        Path p = root.resolve(local);
        return List.of(p.toString(), "file://" + p, "s3://run/" + s3Key);
    }

    @Test
    void aFileIsFetchedAlikeFromEveryKindOfLocation() throws Exception {
        try (StorageSession s = session("work-fetch")) {
            for (String location : locations("local/adapter/a.txt", "adapter/a.txt")) {
                assertThat(Files.readString(s.fetch(location))).as(location).isEqualTo("a");
            }
        }
    }

    @Test
    void aShardsOwnDataStoreOutIsDataUnreachableNotTheRunStorages() throws Exception {
        int closed;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            closed = free.getLocalPort();
        }
        String down = "http://127.0.0.1:" + closed;
        ObjectStore.Retry once = ObjectStore.Retry.of(java.time.Duration.ZERO);
        ObjectStore dataDown = new ObjectStore(down, null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, once, null);
        ObjectStore runDown = new ObjectStore(down, null, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, once, null);
        try (StorageSession s = new StorageSession(() -> store, () -> dataDown, root.resolve("work-data-down"))) {
            assertThatThrownBy(() -> s.fetchData("s3://data/train.jsonl")).isInstanceOf(StorageException.class)
                    .hasMessageContaining("the shard's data storage").hasMessageContaining(down)
                    .satisfies(e -> assertThat(((StorageException) e).kind()).isEqualTo(StorageException.Kind.DATA_UNREACHABLE));
        }
        // data kept in the run's own store: its outage is the run storage's
        try (StorageSession s = new StorageSession(() -> runDown, () -> dataDown, root.resolve("work-both-down"))) {
            assertThatThrownBy(() -> s.fetchData("s3://data/train.jsonl")).isInstanceOf(StorageException.class)
                    .satisfies(e -> assertThat(((StorageException) e).kind()).isEqualTo(StorageException.Kind.UNREACHABLE));
        }
    }

    @Test
    void aMissingFileIsNotFoundWhereverItWasLookedFor() throws Exception {
        try (StorageSession s = session("work-missing")) {
            for (String location : locations("local/adapter/none.txt", "adapter/none.txt")) {
                assertThatThrownBy(() -> s.fetch(location)).as(location).isInstanceOf(StorageException.class)
                        .satisfies(e -> assertThat(((StorageException) e).kind()).isEqualTo(StorageException.Kind.NOT_FOUND));
            }
        }
    }

    @Test
    void aDirectoryWithNothingInItIsNotFound() throws Exception {
        try (StorageSession s = session("work-empty")) {
            for (String location : locations("local/empty", "empty/")) {
                assertThatThrownBy(() -> s.fetchDirectory(location)).as(location).isInstanceOf(StorageException.class)
                        .satisfies(e -> assertThat(((StorageException) e).kind()).isEqualTo(StorageException.Kind.NOT_FOUND));
            }
            for (String location : locations("local/adapter", "adapter/")) {
                assertThat(StorageSession.files(s.fetchDirectory(location))).as(location).containsExactly("a.txt", "b.txt");
            }
        }
    }

    @Test
    void namedFilesOfADirectoryComeWhereTheyExistAndAreAbsentWhereTheyDoNot() throws Exception {
        try (StorageSession s = session("work-named")) {
            for (String location : locations("local/adapter", "adapter/")) {
                Path dir = s.fetchDirectory(location, List.of("a.txt", "none.txt"));
                assertThat(Files.readString(dir.resolve("a.txt"))).as(location).isEqualTo("a");
                assertThat(dir.resolve("none.txt")).as(location).doesNotExist();
            }
        }
    }

    @Test
    void publishUploadsWhatExistsWithItsSha256AndSkipsWhatDoesNot() throws Exception {
        try (StorageSession s = session("work-publish")) {
            for (String location : locations("local/out", "out/")) {
                Path out = s.outputDirectory(location);
                assertThat(out).isDirectory();
                Files.writeString(out.resolve("x.txt"), "x");
                Map<String, String> digests = s.publish(out, location, List.of("x.txt", "absent.txt"));
                assertThat(digests).containsOnlyKeys("x.txt").containsEntry("x.txt", Sha256.of(out.resolve("x.txt")));
            }
            assertThat(store.metadata(S3Uri.parse("s3://run/out/x.txt"))).containsEntry("sha256",
                    Sha256.of(root.resolve("local/out/x.txt")));
            assertThat(store.list(S3Uri.parse("s3://run/out/"))).containsExactly("out/x.txt");
        }
    }

    @Test
    void closingRemovesWhatTheSessionDownloaded() throws Exception {
        Path fetched;
        try (StorageSession s = session("work-close")) {
            fetched = s.fetch("s3://run/adapter/a.txt");
            assertThat(fetched).exists();
        }
        assertThat(fetched).doesNotExist();
        assertThat(root.resolve("local/adapter/a.txt")).as("local inputs are used in place, never removed").exists();
    }
}
