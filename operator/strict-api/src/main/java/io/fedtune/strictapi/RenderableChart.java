package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The chart as helm-java can render it, and what it renders as objects. helm-java has no --kube-version and assumes Kubernetes 1.20, which the chart's
 * kubeVersion refuses, so templates render from a copy without that one line (ChartTest lints the real chart).
 */
public final class RenderableChart {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Map<Path, Path> COPIES = new ConcurrentHashMap<>();

    private RenderableChart() {
    }

    /** A copy of the chart at {@code chartDir} without its kubeVersion line, made once per JVM. */
    public static Path of(Path chartDir) {
        return COPIES.computeIfAbsent(chartDir.toAbsolutePath().normalize(), RenderableChart::copy);
    }

    /** The objects of a multi-document YAML stream, as {@code helm template} prints them. */
    public static List<HasMetadata> parse(String manifests) {
        List<HasMetadata> objects = new ArrayList<>();
        try {
            for (JsonNode doc : YAML.readerFor(JsonNode.class).<JsonNode>readValues(manifests).readAll()) {
                if (doc != null && !doc.isNull() && !doc.isEmpty()) {
                    objects.add(Serialization.unmarshal(doc.toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return objects;
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
