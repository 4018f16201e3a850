package io.fedtune.local;

import io.minio.MinioClient;
import java.io.IOException;
import java.net.URI;
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
    private static final Duration SERVING_TIMEOUT = Duration.ofSeconds(15);

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

    /**
     * Starts s3proxy on the endpoint's port, storing objects under dir/objects. Returns once it serves this silo's
     * folder (see {@link SiloIdentity}).
     *
     * @throws SiloRefused where the port is taken, naming who holds it, or another server answers there
     */
    public static S3Silo start(Path s3proxyJar, String endpoint, String accessKey, String secretKey, Path dir)
            throws IOException, InterruptedException {
        int port = URI.create(endpoint).getPort();
        if (!ListeningPort.isFree(port)) {
            throw new SiloRefused("port " + port + " for the silo at " + endpoint + " is taken by "
                    + ListeningPort.describeHolder(port) + ". Is an earlier fedtune-local still running? Stop it, or give "
                    + "this run other ports; nothing was started or uploaded.");
        }
        Path objects = Files.createDirectories(dir.resolve("objects"));
        SiloIdentity identity = SiloIdentity.plant(objects);
        Path properties = dir.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=" + endpoint,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + accessKey,
                "s3proxy.credential=" + secretKey,
                "jclouds.provider=filesystem-nio2",
                "jclouds.filesystem.basedir=" + objects.toAbsolutePath(),
                ""));
        Process process = ChildProcesses.start(new ProcessBuilder(List.of(javaBin(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-jar", s3proxyJar.toString(), "--properties", properties.toString()))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("s3proxy.log").toFile()));
        S3Silo silo = new S3Silo(endpoint, accessKey, secretKey, objects, process);
        try {
            silo.awaitReady(port, identity);
        } catch (IOException | InterruptedException | RuntimeException e) {
            silo.close();
            throw e;
        }
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

    // Talks to the port only once this silo's own process listens on it, then checks it serves this silo's folder.
    private void awaitReady(int port, SiloIdentity identity) throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(READY_TIMEOUT);
        long pauseMillis = 50;
        Instant listening = null;
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IOException("s3proxy for " + endpoint + " exited with " + process.exitValue()
                        + (ListeningPort.isListenedOn(port) ? "; port " + port + " is held by " + ListeningPort.describeHolder(port) : "")
                        + "; see " + dataDir.getParent().resolve("s3proxy.log"));
            }
            if (ListeningPort.isHeldBy(process.pid(), port)) {
                try {
                    identity.check(client(), endpoint, dataDir);
                    return;
                } catch (SiloRefused e) {
                    listening = listening != null ? listening : Instant.now();
                    if (Instant.now().isAfter(listening.plus(SERVING_TIMEOUT))) {
                        throw e; // it listens on the port, so only a wrong folder or broken server fails this long
                    }
                }
            } else if (ListeningPort.isListenedOn(port) && ListeningPort.holderPid(port).filter(p -> p != process.pid()).isPresent()) {
                throw new SiloRefused("port " + port + " for the silo at " + endpoint + " was taken while s3proxy started, by "
                        + ListeningPort.describeHolder(port) + "; nothing was uploaded");
            }
            Thread.sleep(pauseMillis);
            pauseMillis = Math.min(pauseMillis * 2, 500);
        }
        throw new IOException("s3proxy for " + endpoint + " did not listen within " + READY_TIMEOUT.toSeconds() + " s; see "
                + dataDir.getParent().resolve("s3proxy.log"));
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
