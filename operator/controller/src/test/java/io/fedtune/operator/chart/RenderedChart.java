package io.fedtune.operator.chart;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The chart rendered by real Helm (helm template), parsed into typed Kubernetes objects. */
record RenderedChart(List<HasMetadata> objects) {
    static final String RELEASE = "fedtune";
    static final String NAMESPACE = "fedtune-system";

    static Path chart() {
        return io.fedtune.strictapi.ChartRole.findChart();
    }

    /** helm template with the chart's defaults. */
    static RenderedChart render() {
        return new RenderedChart(io.fedtune.strictapi.RenderableChart.parse(template().call()));
    }

    /** helm template -f VALUES (given as YAML); throws what Helm reports when it refuses them. */
    static RenderedChart render(String valuesYaml) {
        try {
            Path values = Files.createTempFile("fedtune-values", ".yaml");
            try {
                Files.writeString(values, valuesYaml);
                return new RenderedChart(io.fedtune.strictapi.RenderableChart.parse(template().withValuesFile(values).call()));
            } finally {
                Files.deleteIfExists(values);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static TemplateCommand template() {
        return new Helm(io.fedtune.strictapi.RenderableChart.of(chart())).template().withName(RELEASE).withNamespace(NAMESPACE);
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type) {
        List<T> found = all(type);
        if (found.size() != 1) {
            throw new AssertionError("expected one " + type.getSimpleName() + ", rendered " + found.size() + " in " + kinds());
        }
        return found.get(0);
    }

    List<String> kinds() {
        return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
    }
}
