package io.fedtune.operator.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The image the chart deploys: built from Quarkus' fast-jar layout on an overridable Java 17 base, running as the user
 * the chart expects. The image tier (operator/images/OperatorImageIT) builds it and runs it as the chart's pod.
 */
class OperatorImageTest {
    private static final Path DOCKERFILE = RenderedChart.chart().resolve("../../operator/controller/src/main/docker/Dockerfile.jvm")
            .normalize();

    @Test
    void runsTheFastJarAsTheNonRootUserOfTheChartsSecurityContext() throws IOException {
        List<String> lines = Files.readAllLines(DOCKERFILE).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        var podSecurity = RenderedChart.render().one(Deployment.class).getSpec().getTemplate().getSpec().getSecurityContext();
        long chartUser = podSecurity.getRunAsUser();

        assertThat(lines).filteredOn(l -> l.startsWith("ARG BASE=")).singleElement().asString().contains("17-jre");
        assertThat(lines).filteredOn(l -> l.startsWith("FROM ")).singleElement().isEqualTo("FROM ${BASE}");
        assertThat(lines).filteredOn(l -> l.startsWith("USER ")).singleElement()
                .isEqualTo("USER " + chartUser + ":" + podSecurity.getRunAsGroup());
        assertThat(chartUser).isNotZero();
        assertThat(lines).filteredOn(l -> l.startsWith("COPY ")).allMatch(l -> l.contains("--chown=" + chartUser))
                .anyMatch(l -> l.contains("target/quarkus-app/lib/")).anyMatch(l -> l.contains("target/quarkus-app/quarkus/"));
        assertThat(lines).filteredOn(l -> l.startsWith("ENTRYPOINT ")).singleElement().asString()
                .contains("java $JAVA_OPTS_APPEND -jar /deployments/quarkus-run.jar");
    }
}
