package io.fedtune.strictapi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The chart as helm-java can render it. helm-java has no --kube-version and assumes Kubernetes 1.20, which the chart's
 * kubeVersion refuses, so templates render from a copy without that one line (ChartTest lints the real chart).
 */
public final class RenderableChart {
    private static final Map<Path, Path> COPIES = new ConcurrentHashMap<>();

    private RenderableChart() {
    }

    /** A copy of the chart at {@code chartDir} without its kubeVersion line, made once per JVM. */
    public static Path of(Path chartDir) {
        return COPIES.computeIfAbsent(chartDir.toAbsolutePath().normalize(), RenderableChart::copy);
    }

    private static Path copy(Path source) {
        try {
            Path copy = Files.createTempDirectory("fedtune-chart").resolve(source.getFileName().toString());
            try (Stream<Path> files = Files.walk(source)) {
                for (Path file : files.toList()) {
                    Path target = copy.resolve(source.relativize(file).toString());
                    if (Files.isDirectory(file)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(file, target);
                    }
                }
            }
            Path chartYaml = copy.resolve("Chart.yaml");
            Files.writeString(chartYaml, Files.readString(chartYaml).replaceAll("(?m)^kubeVersion:.*\\R", ""));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
