package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Local mode has no container runtime: it runs the fedtune trainer image's entrypoint (the trainer jar) as a process,
 * and refuses other images rather than pretend.
 */
public final class TrainerJarCommand implements PodCommand {
    private final Path trainerJar;
    private final Path djlCache;

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
        List<String> cmd = new ArrayList<>(List.of(S3Silo.javaBin(), "-Xmx1g", "-XX:+UseSerialGC",
                "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                "-jar", trainerJar.toString()));
        if (container.getArgs() != null) {
            cmd.addAll(container.getArgs());
        }
        return cmd;
    }

    @Override
    public Map<String, String> imageEnvironment() {
        return Map.of("OPT_OUT_TRACKING", "true", "DJL_CACHE_DIR", djlCache.toString());
    }

    static boolean isTrainerImage(String image) {
        if (image == null) {
            return false;
        }
        String repository = image.replaceFirst("[:@].*$", "");
        return repository.endsWith("/fedtune-trainer") || repository.equals("fedtune-trainer");
    }
}
