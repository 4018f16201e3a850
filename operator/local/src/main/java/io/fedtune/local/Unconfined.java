package io.fedtune.local;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A container as a plain process with the runner's user and filesystem: what local mode falls back to without
 * bubblewrap. Paths inside the container's volumes (in env values and the working directory) point at their host
 * folders instead, since nothing is mounted. It still gets only its own environment.
 */
public record Unconfined(String reason) implements Confinement {

    @Override
    public ProcessBuilder processFor(ContainerLaunch launch) {
        Map<String, String> env = new LinkedHashMap<>();
        launch.env().forEach((k, v) -> env.put(k, v.startsWith("/") ? launch.hostPath(v).map(Path::toString).orElse(v) : v));
        List<String> command = new ArrayList<>(launch.command());
        command.set(0, resolve(command.get(0), env.get("PATH")));
        Path dir = launch.hostPath(launch.workingDir()).orElse(launch.podDir());
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        return builder;
    }

    /** The program as the container's PATH finds it (a process builder would search the runner's PATH). */
    private static String resolve(String program, String path) {
        if (program.contains("/") || path == null) {
            return program;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return program;
    }

    @Override
    public boolean confines() {
        return false;
    }

    @Override
    public String describe() {
        return "pods run UNCONFINED, as plain processes with this runner's user and filesystem: " + reason
                + ". What a cluster refuses (writes outside the pod's volumes, running as root) passes here.";
    }
}
