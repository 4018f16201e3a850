package io.fedtune.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** crds/ and the chart's crds/ must be exactly what the build generates from the Java types. */
class CrdDriftTest {
    private static final boolean WRITE = Boolean.getBoolean("fedtune.crds.write");

    @Test
    void committedCrdsMatchTheGeneratedOnes() throws IOException {
        Path root = CrdFiles.repoRoot();
        List<Path> places = List.of(root.resolve("crds"), root.resolve("charts/fedtune-operator/crds"));
        List<String> drifted = new ArrayList<>();
        for (Class<?> kind : CrdFiles.KINDS) {
            String expected = CrdFiles.render(kind);
            for (Path dir : places) {
                Path file = dir.resolve(CrdFiles.fileName(kind));
                if (WRITE) {
                    Files.createDirectories(dir);
                    Files.writeString(file, expected);
                } else if (!Files.exists(file) || !Files.readString(file).equals(expected)) {
                    drifted.add(root.relativize(file).toString());
                }
            }
        }
        assertThat(drifted)
                .withFailMessage("CRD files differ from what the Java API types generate: %s%nRefresh them with:%n  %s",
                        drifted, CrdFiles.REFRESH_COMMAND)
                .isEmpty();
    }
}
