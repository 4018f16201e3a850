package io.fedtune.local;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The operator as it ships: the Quarkus application the chart deploys, started as a child process and pointed at the
 * embedded API server. Stopping one and starting another is how local mode and its tests replace the operator.
 */
public final class OperatorProcess implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final int httpPort;
    private final Path log;

    OperatorProcess(Process process, int httpPort, Path log) {
        this.process = process;
        this.httpPort = httpPort;
        this.log = log;
    }

    /**
     * Starts the operator and returns once its readiness probe passes.
     *
     * @param signers FEDTUNE_SIGNERS: the storage signers it presigns trainer pods' URLs with ({@link SiloSigners})
     */
    public static OperatorProcess start(Path operatorJar, String apiServerUrl, String trainerImage, String signers, Path log)
            throws IOException, InterruptedException {
        int port = freePort();
        ProcessBuilder builder = new ProcessBuilder(List.of(S3Silo.javaBin(), "-Xmx512m", "-XX:TieredStopAtLevel=1",
                "-jar", operatorJar.toString()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> env = builder.environment();
        env.put("QUARKUS_KUBERNETES_CLIENT_API_SERVER_URL", apiServerUrl);
        env.put("QUARKUS_KUBERNETES_CLIENT_TRUST_CERTS", "true");
        // the chart's service account, as the embedded API server authorizes it (a cluster mounts its token instead)
        env.put("QUARKUS_KUBERNETES_CLIENT_TOKEN", EmbeddedApiServer.OPERATOR_TOKEN);
        env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
        env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
        env.put("FEDTUNE_TRAINER_IMAGE", trainerImage);
        env.put(SiloSigners.ENV, signers);
        OperatorProcess operator = new OperatorProcess(ChildProcesses.start(builder), port, log);
        try {
            operator.awaitReady();
        } catch (IOException | InterruptedException | RuntimeException e) {
            operator.process.destroyForcibly();
            throw e;
        }
        return operator;
    }

    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** Waits for the process to end; its exit code. */
    public int awaitExit() throws InterruptedException {
        return process.waitFor();
    }

    /** Kills the operator at once, as a node failure or an OOM kill would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    private void awaitReady() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        URI ready = URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready");
        Instant deadline = Instant.now().plus(READY_TIMEOUT);
        long pauseMillis = 100;
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IOException("the operator exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYetListening) {
                // keep waiting
            }
            Thread.sleep(pauseMillis);
            pauseMillis = Math.min(pauseMillis * 2, 1000);
        }
        process.destroyForcibly();
        throw new IOException("the operator was not ready within " + READY_TIMEOUT.toSeconds() + " s; see " + log);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
