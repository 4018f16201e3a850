package io.fedtune.images;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The build context the images get: the repository root filtered by its .dockerignore, as podman applies it. Measured
 * on a copy of the tree with empty files (so nothing large is copied): only what the Dockerfiles COPY goes in.
 */
class BuildContextIT {
    private static final List<String> ALLOWED = List.of("trainer-image/base-model/", "trainer-image/target/fedtune-trainer.jar",
            "trainer-image/target/image/", "trainer-image/target/image-cuda/", "operator/controller/target/quarkus-app/",
            "operator/images/target/cuda-standin/");

    @Test
    void onlyWhatTheDockerfilesCopyIsSent() throws Exception {
        Podman.require();
        Path work = Files.createDirectories(Images.ROOT.resolve("operator/images/target/it/context"));
        Path tree = work.resolve("tree");
        deleteTree(tree);
        try (Stream<Path> files = Files.walk(Images.ROOT)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String rel = Images.ROOT.relativize(f).toString();
                if (rel.startsWith(".git/") && !rel.equals(".git/HEAD") || rel.startsWith("operator/images/target/it/")) {
                    continue;
                }
                Path copy = tree.resolve(rel);
                Files.createDirectories(copy.getParent());
                if (rel.equals(".dockerignore")) {
                    Files.copy(f, copy);
                } else {
                    Files.createFile(copy);
                }
            }
        }
        Path dockerfile = work.resolve("Dockerfile");
        Files.writeString(dockerfile, "ARG BASE\nFROM ${BASE}\nCOPY . /context\n"
                + "RUN cd /context && find . -type f | sed 's|^\\./|context: |' | sort\n");
        List<String> args = new ArrayList<>(List.of("build", "--no-cache", "--rm"));
        args.addAll(Podman.LIMITS);
        Path iid = work.resolve("iid");
        Files.deleteIfExists(iid);
        args.addAll(List.of("--iidfile", iid.toString(), "--build-arg", "BASE=" + Images.BASE, "-f", dockerfile.toString(),
                tree.toString()));
        // the base image (made by operator/images/base-image.sh when absent) comes from building the trainer first
        Images.trainer();
        Podman.Result r = Podman.run(args, Duration.ofMinutes(5), null);
        if (Files.exists(iid)) {
            Podman.run(List.of("rmi", Files.readString(iid).trim()), Duration.ofMinutes(1), null);
        }
        assertThat(r.exit()).as(r.tail()).isZero();
        List<String> sent = r.output().lines().filter(l -> l.startsWith("context: ")).map(l -> l.substring(9)).toList();

        assertThat(sent).contains("trainer-image/target/fedtune-trainer.jar", "trainer-image/base-model/model.safetensors",
                "trainer-image/target/image/jna/libjnidispatch.so", "operator/controller/target/quarkus-app/quarkus-run.jar");
        assertThat(sent).allSatisfy(p -> assertThat(ALLOWED).anySatisfy(a -> assertThat(p).startsWith(a)));
        deleteTree(tree);
    }

    private static void deleteTree(Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
    }
}
