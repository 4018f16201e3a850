package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What a container means as a process on this machine. */
public interface PodCommand {

    /** The process for a container, or {@link UnrunnableContainer} saying why it cannot run here. */
    List<String> command(Container container);

    /** Environment the image itself would bring (its ENV lines): all a container has besides its pod's env. */
    Map<String, String> imageEnvironment();

    /** The image's USER, used where the securityContext names no runAsUser. */
    default Optional<ImageUser> imageUser() {
        return Optional.empty();
    }

    /** The image's WORKDIR, used where the container names no workingDir. */
    default Optional<String> imageWorkingDir() {
        return Optional.empty();
    }

    /** This machine's files that make up the image (its jar, JDK, warmed caches): visible, read-only, in every container. */
    default List<java.nio.file.Path> imageFiles() {
        return List.of();
    }

    /** A numeric USER uid:gid. */
    record ImageUser(long uid, long gid) {
    }

    /** A container this machine cannot run. */
    final class UnrunnableContainer extends RuntimeException {
        public UnrunnableContainer(String message) {
            super(message);
        }
    }
}
