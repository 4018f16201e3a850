package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The container as a runtime would start it: the image's entrypoint, only the environment a runtime, the image and
 * the pod give it, the user its securityContext (or image) says, its volumes, and its termination message file.
 */
final class ContainerRuntime {
    private final PodCommand podCommand;
    private final PodVolumes volumes;
    private final PodEnvironment environment;

    ContainerRuntime(KubernetesClient client, PodCommand podCommand) {
        this.podCommand = podCommand;
        this.volumes = new PodVolumes(client);
        this.environment = new PodEnvironment(client);
    }

    /**
     * @throws PodCommand.UnrunnableContainer where this machine cannot run the container
     * @throws MissingSecret where a Secret or ConfigMap it references does not exist
     */
    ContainerLaunch launch(Pod pod, Container container, Path podDir, TerminationMessage terminationMessage)
            throws IOException {
        List<String> command = podCommand.command(container);
        ContainerLaunch.RunAs user = ContainerLaunch.RunAs.of(pod, container, podCommand.imageUser());
        List<ContainerLaunch.Mount> mounts = volumes.mount(pod, container, podDir);
        mounts.add(terminationMessage.mount(container));
        // the image's own files stay where they are, read-only, even where they lie under a folder the runner
        // replaces (a checkout under /tmp, which every container gets fresh)
        podCommand.imageFiles().forEach(p -> mounts.add(new ContainerLaunch.Mount(p, p.toString(), true)));

        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", TrainerJarCommand.DEFAULT_PATH);
        env.put("HOSTNAME", pod.getMetadata().getName());
        env.put("HOME", "/"); // what a runtime sets for a user the image has no home for
        env.putAll(podCommand.imageEnvironment());
        env.putAll(environment.of(pod));
        String workingDir = Optional.ofNullable(container.getWorkingDir()).filter(w -> !w.isBlank())
                .or(podCommand::imageWorkingDir).orElse("/");
        boolean readOnlyRoot = container.getSecurityContext() != null
                && Boolean.TRUE.equals(container.getSecurityContext().getReadOnlyRootFilesystem());
        return new ContainerLaunch(pod.getMetadata().getName(), command, env, workingDir, user, readOnlyRoot, mounts, podDir);
    }
}
