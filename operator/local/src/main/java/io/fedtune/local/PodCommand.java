package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import java.util.List;
import java.util.Map;

/** What a container means as a process on this machine. */
public interface PodCommand {

    /** The process for a container, or {@link UnrunnableContainer} saying why it cannot run here. */
    List<String> command(Container container);

    /** Environment the image itself would bring. */
    Map<String, String> imageEnvironment();

    /** A container this machine cannot run. */
    final class UnrunnableContainer extends RuntimeException {
        public UnrunnableContainer(String message) {
            super(message);
        }
    }
}
