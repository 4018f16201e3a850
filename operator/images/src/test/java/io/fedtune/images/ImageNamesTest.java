package io.fedtune.images;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * One name and tag scheme everywhere: REGISTRY/fedtune-{trainer,trainer-cuda,operator}:VERSION, VERSION being the
 * Maven project version. The chart, the operator's and local mode's defaults, the examples and the Dockerfiles' build
 * lines all name what operator/images/build.sh builds (whose names the image tier checks when it builds).
 */
class ImageNamesTest {
    private static final String VERSION = System.getProperty("fedtune.version");
    private static final String REGISTRY = "ghcr.io/fedtune";
    private static final List<String> NAMES = List.of(REGISTRY + "/fedtune-trainer:" + VERSION,
            REGISTRY + "/fedtune-trainer-cuda:" + VERSION, REGISTRY + "/fedtune-operator:" + VERSION);
    private static final YAMLMapper YAML = new YAMLMapper();

    @Test
    void theChartDefaultsToTheImagesOfThisVersion() throws IOException {
        JsonNode chart = YAML.readTree(Images.ROOT.resolve("charts/fedtune-operator/Chart.yaml").toFile());
        JsonNode values = YAML.readTree(Images.ROOT.resolve("charts/fedtune-operator/values.yaml").toFile());
        assertThat(chart.get("appVersion").asText()).isEqualTo(VERSION);
        assertThat(chart.get("version").asText()).isEqualTo(VERSION);
        // the operator's tag is "" (the appVersion) unless set
        assertThat(values.at("/image/repository").asText() + ":" + chart.get("appVersion").asText()).isEqualTo(NAMES.get(2));
        assertThat(values.at("/image/tag").asText()).isEmpty();
        assertThat(values.at("/trainer/image").asText()).isEqualTo(NAMES.get(0));
    }

    @Test
    void theOperatorAndLocalModeDefaultToTheTrainerImageOfThisVersion() throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(Images.ROOT.resolve("operator/controller/src/main/resources/application.properties"))) {
            p.load(in);
        }
        assertThat(p.getProperty("fedtune.trainer.image")).isEqualTo(NAMES.get(0));
        assertThat(Files.readString(Images.ROOT.resolve("operator/local/src/main/java/io/fedtune/local/LocalCluster.java")))
                .contains("TRAINER_IMAGE = \"" + NAMES.get(0) + "\"");
    }

    @Test
    void examplesAndDockerfilesNameOnlyTheseImages() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Images.ROOT.resolve("examples"))) {
            for (Path f : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".yaml"))::iterator) {
                found.addAll(matches(Pattern.compile("^\\s*image:\\s*\"?([^\"\\s]+)"), f));
            }
        }
        for (String dockerfile : List.of("trainer-image/Dockerfile", "trainer-image/Dockerfile.cuda",
                "operator/controller/src/main/docker/Dockerfile.jvm")) {
            List<String> tags = matches(Pattern.compile("build .*-t (\\S+)"), Images.ROOT.resolve(dockerfile));
            assertThat(tags).as(dockerfile + " says how to build itself").isNotEmpty();
            found.addAll(tags);
        }
        assertThat(found).isNotEmpty().allSatisfy(name -> assertThat(NAMES).contains(name));
    }

    private static List<String> matches(Pattern p, Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }
}
