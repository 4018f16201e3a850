package io.fedtune.local;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where local mode finds the artifacts the build made: the trainer jar, the operator, s3proxy and the CRDs. */
public record RepoLayout(Path root) {

    /** The repository root at or above the working directory (the folder holding crds/ and pom.xml). */
    public static RepoLayout find() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !(Files.isDirectory(p.resolve("crds")) && Files.exists(p.resolve("pom.xml")))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("Run fedtune local from inside the fedtune repository (no crds/ and pom.xml above "
                    + Path.of("").toAbsolutePath() + ")");
        }
        return new RepoLayout(p);
    }

    public Path crds() {
        return root.resolve("crds");
    }

    /** The Helm chart; local mode's API server enforces the ClusterRole it renders on the operator. */
    public Path chart() {
        return root.resolve("charts/fedtune-operator");
    }

    public Path trainerJar() {
        return built(root.resolve("trainer-image/target/fedtune-trainer.jar"));
    }

    public Path operatorJar() {
        return built(root.resolve("operator/controller/target/quarkus-app/quarkus-run.jar"));
    }

    public Path s3proxyJar() {
        return built(root.resolve("operator/local/target/s3proxy/s3proxy.jar"));
    }

    public Path baseModel() {
        return root.resolve("trainer-image/base-model");
    }

    private static Path built(Path p) {
        if (!Files.exists(p)) {
            throw new IllegalStateException(p + " is missing: build first with `mvn -B -DskipTests install`");
        }
        return p;
    }
}
