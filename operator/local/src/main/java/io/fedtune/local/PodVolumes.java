package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EmptyDirVolumeSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The container's volumes as a kubelet makes them: an emptyDir is a fresh world-writable folder of the pod's (with
 * {@code medium: Memory} a tmpfs capped at its sizeLimit, where the confinement can make one), a ConfigMap a read-only
 * folder with one file per key.
 */
final class PodVolumes {
    private final KubernetesClient client;

    PodVolumes(KubernetesClient client) {
        this.client = client;
    }

    /**
     * @return a mutable list, one mount per volume mount of the container
     * @throws PodCommand.UnrunnableContainer where a mount cannot be made locally
     * @throws MissingSecret where a ConfigMap it mounts does not exist
     */
    List<ContainerLaunch.Mount> mount(Pod pod, Container container, Path podDir) throws IOException {
        List<ContainerLaunch.Mount> mounts = new ArrayList<>();
        deleteRecursively(podDir.resolve("volumes")); // a pod of the same name before this one left its own
        List<Volume> volumes = Optional.ofNullable(pod.getSpec().getVolumes()).orElse(List.of());
        for (VolumeMount mount : Optional.ofNullable(container.getVolumeMounts()).orElse(List.of())) {
            Volume volume = volumes.stream().filter(v -> v.getName().equals(mount.getName())).findFirst()
                    .orElseThrow(() -> new PodCommand.UnrunnableContainer("volume mount " + mount.getName() + " names no volume"));
            if (mount.getSubPath() != null && !mount.getSubPath().isEmpty()) {
                throw new PodCommand.UnrunnableContainer("volume mount " + mount.getName() + ": subPath is not supported locally");
            }
            Path local = podDir.resolve("volumes").resolve(mount.getName());
            if (volume.getEmptyDir() != null) {
                Files.createDirectories(local);
                Files.setPosixFilePermissions(local, PosixFilePermissions.fromString("rwxrwxrwx"));
                mounts.add(new ContainerLaunch.Mount(local, mount.getMountPath(), Boolean.TRUE.equals(mount.getReadOnly()),
                        memory(volume.getEmptyDir())));
            } else if (volume.getConfigMap() != null) {
                writeConfigMap(pod, volume.getConfigMap().getName(), local);
                mounts.add(new ContainerLaunch.Mount(local, mount.getMountPath(), true));
            } else {
                throw new PodCommand.UnrunnableContainer("volume " + volume.getName()
                        + ": local mode mounts emptyDir and configMap volumes only");
            }
        }
        return mounts;
    }

    /** A tmpfs capped at sizeLimit for {@code medium: Memory}, as the kubelet makes it; a disk-backed one is a folder. */
    private static ContainerLaunch.Memory memory(EmptyDirVolumeSource emptyDir) {
        if (!"Memory".equals(emptyDir.getMedium())) {
            return null;
        }
        Quantity limit = emptyDir.getSizeLimit();
        return new ContainerLaunch.Memory(limit == null ? null : Quantity.getAmountInBytes(limit).longValueExact());
    }

    private void writeConfigMap(Pod pod, String name, Path local) throws IOException {
        var configMap = client.configMaps().inNamespace(pod.getMetadata().getNamespace()).withName(name).get();
        if (configMap == null) {
            throw new MissingSecret("configmap \"" + name + "\" not found");
        }
        Files.createDirectories(local);
        if (configMap.getData() != null) {
            for (var entry : configMap.getData().entrySet()) {
                Files.writeString(local.resolve(entry.getKey()), entry.getValue(), StandardCharsets.UTF_8);
            }
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
