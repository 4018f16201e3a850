package io.fedtune.trainer.cli;

import io.minio.MakeBucketArgs;
import io.minio.MinioClient;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/** A real S3 server for tests: the s3proxy jar as a child process over a temporary directory, checking signatures. */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "fedtune-test";
    public static final String SECRET_KEY = "fedtune-test-secret";

    private volatile Process process;
    private final String endpoint;
    private final Path dir;

    private S3ProxyServer(Process process, String endpoint, Path dir) {
        this.process = process;
        this.endpoint = endpoint;
        this.dir = dir;
    }

    public static S3ProxyServer start(Path dir) throws Exception {
        String jar = System.getProperty("fedtune.s3proxy.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("s3proxy jar not found at " + jar + " (the build copies it into target/s3proxy)");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        Path data = Files.createDirectories(dir.resolve("blobs"));
        Path props = dir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n",
                "s3proxy.endpoint=" + endpoint,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem-nio2",
                "jclouds.filesystem.basedir=" + data,
                ""));
        S3ProxyServer server = new S3ProxyServer(launch(dir), endpoint, dir);
        server.awaitReady();
        return server;
    }

    private static Process launch(Path dir) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", System.getProperty("fedtune.s3proxy.jar"), "--properties", dir.resolve("s3proxy.properties").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("s3proxy.log").toFile())).start();
    }

    /** An outage: the server goes away (its port refuses connections) and its objects stay on disk for {@link #restart}. */
    public void stop() throws InterruptedException {
        close();
    }

    /** The server back on the same port, over the same objects, once it answers. */
    public void restart() throws Exception {
        if (process.isAlive()) {
            throw new IllegalStateException("s3proxy is still running");
        }
        process = launch(dir);
        awaitReady();
    }

    private void awaitReady() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("s3proxy exited with " + process.exitValue());
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 403 || r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            process.waitFor(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        throw new IllegalStateException("s3proxy did not start within 60 s");
    }

    public String endpoint() {
        return endpoint;
    }

    public MinioClient client() {
        return MinioClient.builder().endpoint(endpoint).credentials(ACCESS_KEY, SECRET_KEY).build();
    }

    public void makeBucket(String name) throws Exception {
        client().makeBucket(MakeBucketArgs.builder().bucket(name).build());
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
