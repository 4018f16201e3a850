package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import io.fedtune.api.contract.TrainerEnv;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * A container's termination message as a kubelet handles it: a file of the pod's mounted at the container's
 * terminationMessagePath, read back after exit, else the log's tail where the policy falls back to logs on error.
 */
final class TerminationMessage {
    private static final String DEFAULT_PATH = "/dev/termination-log";
    /** What a kubelet keeps of a log when the termination message falls back to it. */
    private static final int LOG_TAIL_BYTES = 2048;

    private final Path file;

    TerminationMessage(Path podDir) {
        this.file = podDir.resolve("termination-log");
    }

    /** A fresh, empty file bound at the container's terminationMessagePath. */
    ContainerLaunch.Mount mount(Container container) throws IOException {
        // the kubelet makes the file world-writable so that any container user can write it
        Files.deleteIfExists(file);
        Files.createFile(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
        return new ContainerLaunch.Mount(file, Optional.ofNullable(container.getTerminationMessagePath())
                .orElse(DEFAULT_PATH), false);
    }

    /** What the container left as its message once it exited with {@code exit}; {@code log} is its output. */
    String read(Container container, int exit, Path log) throws IOException {
        String message = Files.exists(file) ? head(file) : "";
        if (message.isBlank() && exit != 0 && "FallbackToLogsOnError".equals(container.getTerminationMessagePolicy())) {
            message = tail(log);
        }
        return message;
    }

    private static String head(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = Math.min(bytes.length, TrainerEnv.TERMINATION_MESSAGE_LIMIT);
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    private static String tail(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(0, raf.length() - LOG_TAIL_BYTES);
            byte[] bytes = new byte[(int) (raf.length() - start)];
            raf.seek(start);
            raf.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }
}
