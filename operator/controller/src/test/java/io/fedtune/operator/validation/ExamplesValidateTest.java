package io.fedtune.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every FederatedRun and ClientShard under examples/ is what the API server would accept. */
class ExamplesValidateTest {
    private static final CrdSchemaValidator VALIDATOR = new CrdSchemaValidator();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static Path examples() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("examples"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("examples/ above the working directory").isNotNull();
        return dir.resolve("examples");
    }

    static Stream<Arguments> fedtuneDocuments() throws IOException {
        List<Arguments> docs = new ArrayList<>();
        Path examples = examples();
        try (Stream<Path> files = Files.walk(examples)) {
            for (Path file : files.filter(f -> f.toString().matches(".*\\.ya?ml$"))
                    .filter(f -> !examples.relativize(f).startsWith("quickstart/data")).sorted().toList()) {
                for (JsonNode doc : YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile()).readAll()) {
                    if (doc == null || doc.isNull() || doc.isEmpty()) {
                        continue;
                    }
                    GenericKubernetesResource resource = Serialization.jsonMapper().convertValue(doc, GenericKubernetesResource.class);
                    if (VALIDATOR.handles(resource)) {
                        docs.add(Arguments.of(examples.relativize(file) + " " + resource.getKind() + "/" + resource.getMetadata().getName(),
                                resource));
                    }
                }
            }
        }
        return docs.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fedtuneDocuments")
    void validates(String name, GenericKubernetesResource resource) {
        assertThat(VALIDATOR.validate(resource, null)).as(name).isEmpty();
    }

    @Test
    void everyScenarioHasARunItsShardsAndAReadme() throws IOException {
        List<String> described = new ArrayList<>();
        fedtuneDocuments().forEach(a -> described.add(String.valueOf(a.get()[0])));
        for (String scenario : List.of("quickstart", "gpu-pool", "robust-private", "heterogeneous-lora", "ffa-lora", "skew-experiment")) {
            assertThat(examples().resolve(scenario).resolve("README.md")).as(scenario).isRegularFile();
            assertThat(described).as(scenario).anyMatch(d -> d.startsWith(scenario + "/") && d.contains(" FederatedRun/"));
            assertThat(described).as(scenario).anyMatch(d -> d.startsWith(scenario + "/") && d.contains(" ClientShard/"));
        }
    }

    @Test
    void quickstartGivesEveryDataOwnerItsOwnEndpointBucketAndSecret() throws IOException {
        List<GenericKubernetesResource> shards = new ArrayList<>();
        fedtuneDocuments().map(a -> (GenericKubernetesResource) a.get()[1])
                .filter(r -> r.getKind().equals("ClientShard") && r.getMetadata().getLabels().containsValue("quickstart"))
                .forEach(shards::add);

        assertThat(shards).hasSize(3);
        assertThat(shards.stream().map(s -> s.get("spec", "data", "endpoint")).distinct()).hasSize(3);
        assertThat(shards.stream().map(s -> s.get("spec", "data", "credentialsSecret", "name")).distinct()).hasSize(3);
        assertThat(shards.stream().map(s -> String.valueOf(s.<Object>get("spec", "data", "train", "uri")).split("/")[2]).distinct())
                .hasSize(3);
    }
}
