package io.fedtune.operator.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The image the chart deploys: built from Quarkus' fast-jar layout, running as the user the chart expects. */
class OperatorImageTest {
    private static final Path DOCKERFILE = RenderedChart.chart().resolve("../../operator/controller/src/main/docker/Dockerfile.jvm")
            .normalize();

    @Test
    void runsTheFastJarAsTheNonRootUserOfTheChartsSecurityContext() throws IOException {
        List<String> lines = Files.readAllLines(DOCKERFILE).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        long chartUser = RenderedChart.render().one(Deployment.class).getSpec().getTemplate().getSpec().getSecurityContext().getRunAsUser();

        assertThat(lines).filteredOn(l -> l.startsWith("FROM ")).singleElement().asString().contains("openjdk-17-runtime");
        assertThat(lines).filteredOn(l -> l.startsWith("USER ")).singleElement().isEqualTo("USER " + chartUser);
        assertThat(chartUser).isNotZero();
        assertThat(lines).filteredOn(l -> l.startsWith("COPY ")).allMatch(l -> l.contains("--chown=" + chartUser))
                .anyMatch(l -> l.contains("target/quarkus-app/lib/")).anyMatch(l -> l.contains("target/quarkus-app/quarkus/"));
        assertThat(lines).anyMatch(l -> l.contains("JAVA_APP_JAR=\"/deployments/quarkus-run.jar\""));
    }
}
