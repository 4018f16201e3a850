package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Local mode has no container runtime: it runs the fedtune trainer image's entrypoint (the trainer jar) as a process,
 * and refuses other images rather than pretend. What the image's Dockerfile sets (USER, WORKDIR, ENV with the JDK on
 * PATH, a DJL cache unpacked at build time) this sets the same way, with this machine's JDK and a warmed cache folder.
 */
public final class TrainerJarCommand implements PodCommand {
    /** The Dockerfile's {@code USER 10001} (the fedtune user's group has the same id). */
    static final ImageUser IMAGE_USER = new ImageUser(10001, 10001);
    /** The Dockerfile's {@code WORKDIR}. */
    static final String IMAGE_WORKDIR = "/scratch";
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** The trainer JVM's options: one intra-op and one inter-op thread, so a run's adapters are reproducible. */
    static final List<String> JVM_OPTIONS = List.of("-Xmx1g", "-XX:+UseSerialGC", "-Dai.djl.offline=true",
            "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1");
    /**
     * The Dockerfile's ENV that is not about paths. MKL_CBWR=AUTO is MKL's reproducible mode: without it libtorch's
     * matrix products depend on how their buffers happen to be aligned, so the same seed can give other adapter bytes.
     */
    static final Map<String, String> TRAINER_ENV = trainerEnv(List.of(
            Path.of("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"),
            Path.of("/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4"),
            Path.of("/usr/lib64/libtcmalloc_minimal.so.4")));

    /**
     * With the image's preloaded tcmalloc (its Dockerfile: libtorch's tensors fragment glibc's malloc) where this
     * machine has it (Debian: libtcmalloc-minimal4, which .ci/run installs), the first of the candidates found.
     */
    static Map<String, String> trainerEnv(List<Path> tcmallocCandidates) {
        Map<String, String> env = new HashMap<>(Map.of("OPT_OUT_TRACKING", "true", "MKL_CBWR", "AUTO"));
        tcmallocCandidates.stream().filter(Files::isRegularFile).findFirst().ifPresent(lib -> {
            env.put("LD_PRELOAD", lib.toString());
            env.put("TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD", "1099511627776");
        });
        return Map.copyOf(env);
    }

    private final Path trainerJar;
    private final Path djlCache;
    private final Path javaHome = Path.of(System.getProperty("java.home"));

    public TrainerJarCommand(Path trainerJar, Path djlCache) {
        this.trainerJar = trainerJar;
        this.djlCache = djlCache;
    }

    @Override
    public List<String> command(Container container) {
        if (container.getCommand() != null && !container.getCommand().isEmpty()) {
            throw new UnrunnableContainer("container " + container.getName() + " overrides the command "
                    + container.getCommand() + "; local mode only runs the fedtune trainer image's entrypoint");
        }
        if (!isTrainerImage(container.getImage())) {
            throw new UnrunnableContainer("image " + container.getImage() + " cannot run locally; local mode runs "
                    + "fedtune-trainer images as `java -jar " + trainerJar.getFileName() + "`");
        }
        // `java` as the image's ENTRYPOINT names it: found through the image's PATH, not the runner's
        List<String> cmd = new ArrayList<>(List.of("java"));
        cmd.addAll(JVM_OPTIONS);
        cmd.addAll(List.of("-jar", trainerJar.toString()));
        if (container.getArgs() != null) {
            cmd.addAll(container.getArgs());
        }
        return cmd;
    }

    /** The trainer run on this machine, outside any pod (warming the cache, the base model's baseline). */
    static List<String> hostCommand(String java, Path trainerJar, String... args) {
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(JVM_OPTIONS);
        cmd.addAll(List.of("-jar", trainerJar.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static void hostEnvironment(ProcessBuilder pb, Path djlCache) {
        pb.environment().putAll(TRAINER_ENV);
        pb.environment().put("DJL_CACHE_DIR", djlCache.toString());
    }

    @Override
    public Map<String, String> imageEnvironment() {
        Map<String, String> env = new HashMap<>(TRAINER_ENV);
        env.put("JAVA_HOME", javaHome.toString());
        env.put("PATH", javaHome.resolve("bin") + ":" + DEFAULT_PATH);
        env.put("DJL_CACHE_DIR", djlCache.toString());
        return Map.copyOf(env);
    }

    @Override
    public List<Path> imageFiles() {
        return List.of(trainerJar.toAbsolutePath(), djlCache.toAbsolutePath(), javaHome);
    }

    @Override
    public Optional<ImageUser> imageUser() {
        return Optional.of(IMAGE_USER);
    }

    @Override
    public Optional<String> imageWorkingDir() {
        return Optional.of(IMAGE_WORKDIR);
    }

    /**
     * What the image does at build time, since its pods' root (and so the DJL cache) is read-only: runs the trainer
     * once on a tiny eval set so DJL unpacks both native libraries a round loads, libtorch and the Hugging Face
     * tokenizers library (warming libtorch alone left every pod failing with TokenizerMismatch), then leaves the cache
     * readable by every user. Skipped when the cache was warmed this way by this same trainer jar.
     */
    public void warmCache(Path baseModel) throws IOException, InterruptedException {
        Path marker = djlCache.resolve(".warmed-by");
        String jar = "evaluate " + trainerJar.toRealPath() + " " + Files.size(trainerJar) + " "
                + Files.getLastModifiedTime(trainerJar);
        if (Files.exists(marker) && Files.readString(marker).equals(jar)) {
            return;
        }
        Files.createDirectories(djlCache);
        Path sample = Files.createTempFile("fedtune-warm", ".jsonl");
        try {
            Files.writeString(sample, "{\"text\": \"In the beginning was the Word.\"}\n");
            List<String> cmd = hostCommand(javaHome.resolve("bin/java").toString(), trainerJar, "evaluate",
                    "--base", baseModel.toString(), "--data", sample.toString(), "--max-seq-len", "16", "--batch-size", "1");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            hostEnvironment(pb, djlCache);
            Process p = ChildProcesses.start(pb);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("warming the DJL cache in " + djlCache + " failed: " + out);
            }
        } finally {
            Files.deleteIfExists(sample);
        }
        try (var files = Files.walk(djlCache)) {
            for (Path f : files.toList()) {
                var perms = Files.getPosixFilePermissions(f);
                perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
                perms.add(java.nio.file.attribute.PosixFilePermission.GROUP_READ);
                if (Files.isDirectory(f)) {
                    perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
                    perms.add(java.nio.file.attribute.PosixFilePermission.GROUP_EXECUTE);
                }
                Files.setPosixFilePermissions(f, perms);
            }
        }
        Files.writeString(marker, jar);
    }

    static boolean isTrainerImage(String image) {
        if (image == null) {
            return false;
        }
        String repository = image.replaceFirst("[:@].*$", "");
        return repository.endsWith("/fedtune-trainer") || repository.equals("fedtune-trainer");
    }
}
