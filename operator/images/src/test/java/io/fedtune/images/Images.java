package io.fedtune.images;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The images under test, each built at most once per test JVM by operator/images/build.sh from what the reactor packaged
 * ({@code --skip-maven}), on {@link #BASE}: by default a Debian JRE image made by operator/images/base-image.sh (no registry
 * answers on this project's machines), kept between runs. Names are build.sh's defaults, the ones the chart and the
 * operator default to.
 */
final class Images {
    static final String BASE = System.getProperty("fedtune.images.base", "localhost/fedtune-base:bookworm-2");
    static final Path ROOT = repositoryRoot();
    static final String VERSION = System.getProperty("fedtune.version");
    static final String TRAINER = "ghcr.io/fedtune/fedtune-trainer:" + VERSION;
    /** The CUDA Dockerfile built with the CPU libtorch in the place of the CUDA one (build.sh --cuda-torch cpu). */
    static final String TRAINER_CUDA_STANDIN = "ghcr.io/fedtune/fedtune-trainer-cuda:" + VERSION + "-cpu-standin";
    static final String OPERATOR = "ghcr.io/fedtune/fedtune-operator:" + VERSION;

    private static final Pattern BUILT = Pattern.compile("build\\.sh: built (\\S+) in (\\d+) s");
    private static final Map<String, Object> DONE = new HashMap<>();

    private Images() {
    }

    static String trainer() throws IOException {
        return build("trainer", TRAINER);
    }

    static String trainerCudaStandIn() throws IOException {
        return build("trainer-cuda", TRAINER_CUDA_STANDIN, "--cuda-torch", "cpu", "--cuda-base", BASE);
    }

    static String operator() throws IOException {
        return build("operator", OPERATOR);
    }

    /** Builds one image with build.sh, or rethrows how it failed the first time. */
    private static synchronized String build(String which, String expectedName, String... extra) throws IOException {
        Podman.require();
        Object done = DONE.get(which);
        if (done instanceof IOException e) {
            throw e;
        }
        if (done != null) {
            return (String) done;
        }
        try {
            base();
            List<String> command = new ArrayList<>(List.of(ROOT.resolve("operator/images/build.sh").toString(), "--skip-maven", "--base", BASE));
            command.addAll(List.of(extra));
            command.add(which);
            Path log = ROOT.resolve("operator/images/target/build-" + which + ".log");
            Files.deleteIfExists(log);
            Podman.Result r = Podman.exec(command, Duration.ofMinutes(15), log, Map.of(
                    "CONTAINER_TOOL", "podman",
                    "CONTAINER_GLOBAL_OPTS", String.join(" ", Podman.GLOBAL_OPTS),
                    "CONTAINER_BUILD_OPTS", String.join(" ", Podman.LIMITS)));
            if (r.exit() != 0) {
                throw new IOException("operator/images/build.sh " + which + " exited with " + r.exit() + " (log " + log + "):\n" + r.tail());
            }
            Matcher m = BUILT.matcher(r.output());
            boolean found = m.find();
            if (!found || !m.group(1).equals(expectedName)) {
                throw new IOException("operator/images/build.sh " + which + " built " + (found ? m.group(1) : "nothing")
                        + ", expected " + expectedName);
            }
            System.out.printf("image tier: built %s in %s s (podman build; log %s)%n", m.group(1), m.group(2), log);
            DONE.put(which, expectedName);
            return expectedName;
        } catch (IOException e) {
            DONE.put(which, e);
            throw e;
        }
    }

    /** Makes the local base image once (about 1.5 min), unless it exists or is not a local one. */
    private static void base() throws IOException {
        if (DONE.containsKey("base") || !BASE.startsWith("localhost/")) {
            return;
        }
        Path log = ROOT.resolve("operator/images/target/base-image.log");
        Podman.Result r = Podman.exec(List.of(ROOT.resolve("operator/images/base-image.sh").toString(), BASE), Duration.ofMinutes(10), log,
                Map.of("CONTAINER_GLOBAL_OPTS", String.join(" ", Podman.GLOBAL_OPTS)));
        if (r.exit() != 0) {
            throw new IOException("operator/images/base-image.sh " + BASE + " exited with " + r.exit() + ":\n" + r.tail());
        }
        System.out.printf("image tier: base %s: %s (%.0f s)%n", BASE, r.output().trim(), r.seconds());
        DONE.put("base", BASE);
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("operator/images/build.sh"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("not inside the fedtune repository: " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
