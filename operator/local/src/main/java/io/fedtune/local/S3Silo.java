package io.fedtune.local;

import io.minio.MinioClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One S3 server (s3proxy on the local filesystem) with one identity: a data owner's silo, or the run's storage.
 * s3proxy checks signatures, so a pod holding another silo's credentials is refused as it would be on real S3.
 */
public final class S3Silo implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final String endpoint;
    private final String accessKey;
    private final String secretKey;
    private final Path dataDir;
    private final Process process;

    private S3Silo(String endpoint, String accessKey, String secretKey, Path dataDir, Process process) {
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.dataDir = dataDir;
        this.process = process;
    }

    /** Starts s3proxy on the endpoint's port, storing objects under dir/objects. Returns once it answers. */
    public static S3Silo start(Path s3proxyJar, String endpoint, String accessKey, String secretKey, Path dir)
            throws IOException, InterruptedException {
        Path objects = Files.createDirectories(dir.resolve("objects"));
        Path properties = dir.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=" + endpoint,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + accessKey,
                "s3proxy.credential=" + secretKey,
                "jclouds.provider=filesystem-nio2",
                "jclouds.filesystem.basedir=" + objects.toAbsolutePath(),
                ""));
        Process process = new ProcessBuilder(List.of(javaBin(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-jar", s3proxyJar.toString(), "--properties", properties.toString()))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("s3proxy.log").toFile())
                .start();
        S3Silo silo = new S3Silo(endpoint, accessKey, secretKey, objects, process);
        silo.awaitReady();
        return silo;
    }

    public String endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** Where the objects lie on disk, one folder per bucket. */
    public Path dataDir() {
        return dataDir;
    }

    public MinioClient client() {
        return MinioClient.builder().endpoint(endpoint).credentials(accessKey, secretKey).build();
    }

    // s3proxy answers an unsigned GET / with 403 once it serves requests.
    private void awaitReady() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        Instant deadline = Instant.now().plus(READY_TIMEOUT);
        long pauseMillis = 50;
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IOException("s3proxy for " + endpoint + " exited with " + process.exitValue()
                        + "; see " + dataDir.getParent().resolve("s3proxy.log"));
            }
            try {
                http.send(HttpRequest.newBuilder(URI.create(endpoint + "/")).build(), HttpResponse.BodyHandlers.discarding());
                return;
            } catch (IOException notYetListening) {
                Thread.sleep(pauseMillis);
                pauseMillis = Math.min(pauseMillis * 2, 500);
            }
        }
        close();
        throw new IOException("s3proxy for " + endpoint + " did not answer within " + READY_TIMEOUT.toSeconds() + " s");
    }

    /** Kills s3proxy at once (SIGKILL), as a crash would; its objects stay on disk. A test's fault, not a shutdown. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Freezes s3proxy (SIGSTOP): connections are accepted by the kernel but nothing answers, as on a hung server. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** Lets a {@link #pause paused} s3proxy go on (SIGCONT). */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).redirectErrorStream(true).start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed: "
                    + new String(kill.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim());
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
