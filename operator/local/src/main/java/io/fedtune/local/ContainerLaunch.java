package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One container as the local kubelet hands it to a {@link Confinement}: its process, its whole environment (nothing
 * inherited), who it runs as, and what of the filesystem it may write.
 *
 * @param podDir where the pod's files live on this machine (log, termination message, volumes)
 * @param mounts the pod's volumes and its termination message file, by path inside the container
 */
public record ContainerLaunch(String hostname, List<String> command, Map<String, String> env, String workingDir,
                              RunAs user, boolean readOnlyRoot, List<Mount> mounts, Path podDir) {

    /**
     * A host path bound into the container; or, with {@code memory}, a fresh tmpfs at containerPath, as a kubelet makes
     * an emptyDir with {@code medium: Memory} (host is then only where an unconfined process writes instead).
     */
    public record Mount(Path host, String containerPath, boolean readOnly, Memory memory) {
        public Mount(Path host, String containerPath, boolean readOnly) {
            this(host, containerPath, readOnly, null);
        }
    }

    /** A memory-backed volume; writes past {@code sizeBytes} (when set: the emptyDir's sizeLimit) fail with ENOSPC. */
    public record Memory(Long sizeBytes) {
    }

    /**
     * Who a container's process is, as the kubelet works it out: the container's securityContext, else the pod's, else
     * the image's USER, else root (as a runtime does).
     */
    public record RunAs(long uid, long gid, List<Long> groups, boolean noNewPrivileges, List<String> dropCapabilities,
                        List<String> addCapabilities) {

        public boolean isRoot() {
            return uid == 0;
        }

        /** @throws PodCommand.UnrunnableContainer where runAsNonRoot is set and the container would run as root */
        static RunAs of(Pod pod, Container container, Optional<PodCommand.ImageUser> imageUser) {
            PodSecurityContext podContext = Optional.ofNullable(pod.getSpec().getSecurityContext()).orElseGet(PodSecurityContext::new);
            SecurityContext context = Optional.ofNullable(container.getSecurityContext()).orElseGet(SecurityContext::new);
            Long uid = first(context.getRunAsUser(), podContext.getRunAsUser());
            Long gid = first(context.getRunAsGroup(), podContext.getRunAsGroup());
            if (uid == null && imageUser.isPresent()) {
                uid = imageUser.get().uid();
                gid = gid != null ? gid : imageUser.get().gid();
            }
            uid = uid == null ? 0L : uid;
            gid = gid == null ? 0L : gid;
            Boolean nonRoot = first(context.getRunAsNonRoot(), podContext.getRunAsNonRoot());
            if (Boolean.TRUE.equals(nonRoot) && uid == 0) {
                // the kubelet's words for it (CreateContainerConfigError)
                throw new PodCommand.UnrunnableContainer("container has runAsNonRoot and image will run as root (pod: \""
                        + pod.getMetadata().getName() + "\", container: " + container.getName() + ")");
            }
            List<Long> groups = new ArrayList<>();
            if (podContext.getSupplementalGroups() != null) {
                groups.addAll(podContext.getSupplementalGroups());
            }
            if (podContext.getFsGroup() != null) {
                groups.add(podContext.getFsGroup());
            }
            var caps = context.getCapabilities();
            return new RunAs(uid, gid, List.copyOf(groups), Boolean.FALSE.equals(context.getAllowPrivilegeEscalation()),
                    caps == null || caps.getDrop() == null ? List.of() : List.copyOf(caps.getDrop()),
                    caps == null || caps.getAdd() == null ? List.of() : List.copyOf(caps.getAdd()));
        }

        private static <T> T first(T a, T b) {
            return a != null ? a : b;
        }
    }

    /** The host path a container path lies at, through the mounts, if it lies in one. */
    Optional<Path> hostPath(String containerPath) {
        Mount best = null;
        for (Mount m : mounts) {
            if ((containerPath.equals(m.containerPath()) || containerPath.startsWith(m.containerPath() + "/"))
                    && (best == null || m.containerPath().length() > best.containerPath().length())) {
                best = m;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        String rest = containerPath.substring(best.containerPath().length());
        return Optional.of(rest.isEmpty() ? best.host() : best.host().resolve(rest.substring(1)));
    }
}
