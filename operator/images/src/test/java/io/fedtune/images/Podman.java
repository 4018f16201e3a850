package io.fedtune.images;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * podman on this machine, with the flags this project's machines need (shared STACK.md: crun fails on their cgroups, and
 * podman's default rlimits are refused). {@code CONTAINER_GLOBAL_OPTS} and {@code CONTAINER_BUILD_OPTS} replace them,
 * as they do for operator/images/build.sh.
 */
final class Podman {
    static final List<String> GLOBAL_OPTS = opts("CONTAINER_GLOBAL_OPTS", "--runtime runc --cgroup-manager=cgroupfs");
    /** For build and run alike. */
    static final List<String> LIMITS = opts("CONTAINER_BUILD_OPTS", "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024");

    private static Optional<String> unavailable;

    private Podman() {
    }

    /**
     * Aborts the calling test when podman cannot run containers here, loudly; in CI ({@code CI=true}) fails it instead:
     * the image tier must not pass by not running.
     */
    static void require() {
        Optional<String> why = unavailable();
        if (why.isEmpty()) {
            return;
        }
        String message = "THE IMAGE TIER DID NOT RUN: " + why.get();
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(message + " (CI=true: install podman, runc, buildah and debootstrap, as .ci/run does)");
        }
        System.err.println("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        System.err.println("!!! " + message);
        System.err.println("!!! skipped because CI is not true; the images were neither built nor run.");
        System.err.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
        Assumptions.abort(message);
    }

    static synchronized Optional<String> unavailable() {
        if (unavailable == null) {
            unavailable = probe();
        }
        return unavailable;
    }

    private static Optional<String> probe() {
        try {
            Result version = run(List.of("--version"), Duration.ofSeconds(30), null);
            if (version.exit() != 0) {
                return Optional.of("podman --version exited with " + version.exit() + ": " + version.output());
            }
            Result info = run(List.of("info", "--format", "{{.Host.OCIRuntime.Name}}"), Duration.ofSeconds(60), null);
            if (info.exit() != 0) {
                return Optional.of("podman info failed: " + info.output());
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("podman is not installed (" + e.getMessage() + ")");
        }
    }

    /** Runs {@code podman GLOBAL_OPTS args}; output to {@code log} when given, else kept (tail) in the result. */
    static Result run(List<String> args, Duration timeout, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("podman");
        command.addAll(GLOBAL_OPTS);
        command.addAll(args);
        return exec(command, timeout, log, null);
    }

    static Result exec(List<String> command, Duration timeout, Path log, java.util.Map<String, String> env) throws IOException {
        Path out = log != null ? log : Files.createTempFile("podman", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
        if (env != null) {
            builder.environment().putAll(env);
        }
        long start = System.nanoTime();
        Process p = builder.start();
        try {
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IOException(String.join(" ", command) + " ran past " + timeout.toSeconds() + " s; log " + out);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String text = Files.readString(out, StandardCharsets.UTF_8);
        if (log == null) {
            Files.deleteIfExists(out);
        }
        return new Result(p.exitValue(), text, seconds);
    }

    record Result(int exit, String output, double seconds) {
        String tail() {
            return output.length() <= 4000 ? output : output.substring(output.length() - 4000);
        }
    }

    private static List<String> opts(String env, String defaults) {
        String value = System.getenv(env);
        String s = value != null ? value : defaults;
        return s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
    }
}
