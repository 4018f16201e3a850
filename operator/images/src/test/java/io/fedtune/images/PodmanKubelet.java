package io.fedtune.images;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretVolumeSource;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fedtune.api.contract.TrainerEnv;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a pod's container with podman the way a kubelet runs it, from the pod object alone: image, command and args;
 * env, with secretKeyRef values from the given Secrets and fieldRef metadata.*; user and group from the security
 * contexts, else the image's, refused under runAsNonRoot unless a numeric non-zero uid (as a kubelet refuses it); a
 * read-only root; dropped capabilities; no privilege escalation; emptyDir volumes (host folders, mode 0777 as a
 * kubelet makes them); ConfigMap volumes (files, read-only); Secret volumes (the keys of items or all, with their mode or
 * defaultMode, group-owned by the pod's fsGroup, which the container gets as a supplementary group); the termination
 * message file at terminationMessagePath.
 * The network is the host's, so the container reaches the test's s3proxy and API server on 127.0.0.1.
 */
final class PodmanKubelet {
    private static final int LOG_TAIL_BYTES = 2048;

    private final Path workDir;
    private final Map<String, Secret> secrets;
    private final Map<String, ConfigMap> configMaps;

    PodmanKubelet(Path workDir, List<Secret> secrets, List<ConfigMap> configMaps) {
        this.workDir = workDir;
        this.secrets = new HashMap<>();
        secrets.forEach(s -> this.secrets.put(s.getMetadata().getName(), s));
        this.configMaps = new HashMap<>();
        configMaps.forEach(c -> this.configMaps.put(c.getMetadata().getName(), c));
    }

    /** A finished container: the pod with the status a kubelet would report, the log and the emptyDir folders. */
    record Finished(Pod pod, int exitCode, String terminationMessage, Path log, Map<String, Path> emptyDirs, double seconds) {
    }

    /** A pod started in the background (a server such as the operator); {@link #stop} ends it. */
    record Started(String container, Path log) {
    }

    Finished run(Pod pod, Duration timeout) throws IOException {
        Prepared p = prepare(pod, false);
        Podman.Result r = Podman.run(p.args(), timeout, p.log());
        String message = Files.exists(p.terminationLog()) ? head(p.terminationLog()) : "";
        if (message.isBlank() && r.exit() != 0 && "FallbackToLogsOnError".equals(p.container().getTerminationMessagePolicy())) {
            message = tail(r.output());
        }
        return new Finished(terminated(pod, p.container().getName(), r.exit(), message), r.exit(), message, p.log(),
                p.emptyDirs(), r.seconds());
    }

    Started start(Pod pod) throws IOException {
        Prepared p = prepare(pod, true);
        Podman.Result r = Podman.run(p.args(), Duration.ofSeconds(60), p.log());
        if (r.exit() != 0) {
            throw new IOException("podman run -d failed: " + r.tail());
        }
        return new Started(p.name(), p.log());
    }

    static String logs(Started started) throws IOException {
        return Podman.run(List.of("logs", started.container()), Duration.ofSeconds(30), null).output();
    }

    static void stop(Started started) throws IOException {
        Podman.run(List.of("rm", "-f", "-t", "10", started.container()), Duration.ofSeconds(60), null);
    }

    private record Prepared(String name, Container container, List<String> args, Path log, Path terminationLog,
                            Map<String, Path> emptyDirs) {
    }

    private Prepared prepare(Pod pod, boolean detached) throws IOException {
        if (pod.getSpec().getContainers().size() != 1) {
            throw new IllegalArgumentException("one container per pod here");
        }
        Container c = pod.getSpec().getContainers().get(0);
        String name = "fedtune-it-" + pod.getMetadata().getName() + "-" + Long.toHexString(System.nanoTime());
        Path dir = Files.createDirectories(workDir.resolve(pod.getMetadata().getName()));
        List<String> args = new ArrayList<>(List.of("run", "--name", name, "--network", "host", "--pull", "never"));
        args.add(detached ? "-d" : "--rm");
        args.addAll(Podman.LIMITS);

        PodSecurityContext podSc = pod.getSpec().getSecurityContext();
        SecurityContext sc = c.getSecurityContext();
        Long uid = sc != null && sc.getRunAsUser() != null ? sc.getRunAsUser() : podSc != null ? podSc.getRunAsUser() : null;
        Long gid = sc != null && sc.getRunAsGroup() != null ? sc.getRunAsGroup() : podSc != null ? podSc.getRunAsGroup() : null;
        boolean nonRoot = Boolean.TRUE.equals(sc != null && sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot()
                : podSc != null ? podSc.getRunAsNonRoot() : null);
        if (uid != null) {
            args.add("--user");
            args.add(uid + (gid != null ? ":" + gid : ""));
        }
        Long fsGroup = podSc != null ? podSc.getFsGroup() : null;
        if (fsGroup != null) {
            // a kubelet adds the fsGroup to the container's groups; the volumes it owns are then the pod's
            args.addAll(List.of("--group-add", fsGroup.toString()));
        }
        if (nonRoot) {
            String user = uid != null ? uid.toString() : imageUser(c.getImage());
            String numeric = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
            if (!numeric.matches("[0-9]+") || Long.parseLong(numeric) == 0) {
                throw new IllegalStateException("container has runAsNonRoot and image has user '" + user
                        + "', which a kubelet cannot verify is non-root (pod " + pod.getMetadata().getName() + ")");
            }
        }
        if (sc != null && Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
            // podman would otherwise mount tmpfs on /tmp, /var/tmp and /run, which a pod does not get
            args.addAll(List.of("--read-only", "--read-only-tmpfs=false"));
        }
        if (sc != null && sc.getCapabilities() != null && sc.getCapabilities().getDrop() != null
                && sc.getCapabilities().getDrop().contains("ALL")) {
            args.addAll(List.of("--cap-drop", "ALL"));
        }
        if (sc != null && Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
            args.addAll(List.of("--security-opt", "no-new-privileges"));
        }

        Map<String, Path> emptyDirs = new LinkedHashMap<>();
        for (VolumeMount m : c.getVolumeMounts() == null ? List.<VolumeMount>of() : c.getVolumeMounts()) {
            Volume v = pod.getSpec().getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no volume " + m.getName()));
            Path host;
            if (v.getEmptyDir() != null) {
                host = worldWritable(Files.createDirectories(dir.resolve("volumes").resolve(m.getName())));
                emptyDirs.put(m.getName(), host);
            } else if (v.getConfigMap() != null) {
                ConfigMap cm = configMaps.get(v.getConfigMap().getName());
                if (cm == null) {
                    throw new IllegalStateException("configmap \"" + v.getConfigMap().getName() + "\" not found");
                }
                host = Files.createDirectories(dir.resolve("volumes").resolve(m.getName()));
                for (var e : cm.getData().entrySet()) {
                    Files.writeString(host.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
                }
            } else if (v.getSecret() != null) {
                host = secretVolume(Files.createDirectories(dir.resolve("volumes").resolve(m.getName())), v.getSecret(), fsGroup);
            } else if (v.getHostPath() != null) {
                host = Path.of(v.getHostPath().getPath());
            } else {
                throw new IllegalStateException("volume " + v.getName() + ": only emptyDir, configMap, secret and hostPath volumes here");
            }
            // a kubelet mounts Secret and ConfigMap volumes read-only whatever the mount says
            boolean readOnly = Boolean.TRUE.equals(m.getReadOnly()) || v.getSecret() != null || v.getConfigMap() != null;
            args.addAll(List.of("-v", host + ":" + m.getMountPath() + (readOnly ? ":ro" : "")));
        }

        String terminationPath = c.getTerminationMessagePath() != null ? c.getTerminationMessagePath() : "/dev/termination-log";
        Path terminationLog = dir.resolve("termination-log");
        Files.deleteIfExists(terminationLog);
        Files.createFile(terminationLog);
        Files.setPosixFilePermissions(terminationLog, PosixFilePermissions.fromString("rw-rw-rw-"));
        args.addAll(List.of("-v", terminationLog + ":" + terminationPath));

        // an env file, so secret values stay off podman's command line
        Path envFile = dir.resolve("env");
        StringBuilder env = new StringBuilder();
        environment(pod, c).forEach((k, val) -> {
            if (val.contains("\n")) {
                throw new IllegalArgumentException("env " + k + " holds a newline, which an env file cannot carry");
            }
            env.append(k).append('=').append(val).append('\n');
        });
        Files.writeString(envFile, env, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(envFile, PosixFilePermissions.fromString("rw-------"));
        args.addAll(List.of("--env-file", envFile.toString()));

        if (c.getWorkingDir() != null) {
            args.addAll(List.of("-w", c.getWorkingDir()));
        }
        List<String> command = c.getCommand() == null ? List.of() : c.getCommand();
        if (!command.isEmpty()) {
            args.addAll(List.of("--entrypoint", command.get(0)));
        }
        args.add(c.getImage());
        args.addAll(command.size() > 1 ? command.subList(1, command.size()) : List.of());
        if (c.getArgs() != null) {
            args.addAll(c.getArgs());
        }
        return new Prepared(name, c, args, dir.resolve("container.log"), terminationLog, emptyDirs);
    }

    /**
     * A Secret volume as a kubelet projects it: the keys its items name (each at its path), else every key; each file
     * with the item's mode, else defaultMode (0644 when unset); owned by root and, with an fsGroup, by that group.
     */
    private Path secretVolume(Path host, SecretVolumeSource source, Long fsGroup) throws IOException {
        Secret s = secrets.get(source.getSecretName());
        if (s == null) {
            throw new IllegalStateException("secret \"" + source.getSecretName() + "\" not found");
        }
        Map<String, String> projected = new LinkedHashMap<>();
        Map<String, Integer> modes = new HashMap<>();
        if (source.getItems() == null || source.getItems().isEmpty()) {
            secretKeys(s).forEach(k -> projected.put(k, k));
        } else {
            for (KeyToPath item : source.getItems()) {
                projected.put(item.getPath(), item.getKey());
                if (item.getMode() != null) {
                    modes.put(item.getPath(), item.getMode());
                }
            }
        }
        int defaultMode = source.getDefaultMode() != null ? source.getDefaultMode() : 0644;
        for (var e : projected.entrySet()) {
            String value = secretValue(s, e.getValue());
            if (value == null) {
                throw new IllegalStateException("couldn't find key " + e.getValue() + " in Secret " + source.getSecretName());
            }
            Path file = host.resolve(e.getKey());
            Files.deleteIfExists(file);
            Files.writeString(file, value, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(file, permissions(modes.getOrDefault(e.getKey(), defaultMode)));
            if (fsGroup != null) {
                Files.setAttribute(file, "unix:gid", fsGroup.intValue());
            }
        }
        if (fsGroup != null) {
            Files.setAttribute(host, "unix:gid", fsGroup.intValue());
        }
        return host;
    }

    private static List<String> secretKeys(Secret s) {
        List<String> keys = new ArrayList<>();
        if (s.getData() != null) {
            keys.addAll(s.getData().keySet());
        }
        if (s.getStringData() != null) {
            s.getStringData().keySet().stream().filter(k -> !keys.contains(k)).forEach(keys::add);
        }
        return keys;
    }

    /** A Secret's value for a key: stringData wins over data, as the API server merges them. */
    private static String secretValue(Secret s, String key) {
        return s.getStringData() != null && s.getStringData().containsKey(key) ? s.getStringData().get(key)
                : s.getData() != null && s.getData().containsKey(key)
                ? new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8) : null;
    }

    private static java.util.Set<PosixFilePermission> permissions(int mode) {
        java.util.Set<PosixFilePermission> set = java.util.EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                set.add(bits[i]);
            }
        }
        return set;
    }

    private Map<String, String> environment(Pod pod, Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar v : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
            if (v.getValueFrom() == null) {
                env.put(v.getName(), v.getValue() == null ? "" : v.getValue());
            } else if (v.getValueFrom().getSecretKeyRef() != null) {
                var ref = v.getValueFrom().getSecretKeyRef();
                Secret s = secrets.get(ref.getName());
                String value = s == null ? null : secretValue(s, ref.getKey());
                if (value == null) {
                    throw new IllegalStateException("couldn't find key " + ref.getKey() + " in Secret " + ref.getName());
                }
                env.put(v.getName(), value);
            } else if (v.getValueFrom().getFieldRef() != null) {
                env.put(v.getName(), switch (v.getValueFrom().getFieldRef().getFieldPath()) {
                    case "metadata.name" -> pod.getMetadata().getName();
                    case "metadata.namespace" -> pod.getMetadata().getNamespace();
                    default -> throw new IllegalStateException("fieldRef " + v.getValueFrom().getFieldRef().getFieldPath());
                });
            } else {
                throw new IllegalStateException("env " + v.getName() + ": unsupported valueFrom");
            }
        }
        return env;
    }

    static String imageUser(String image) throws IOException {
        Podman.Result r = Podman.run(List.of("image", "inspect", "--format", "{{.Config.User}}", image), Duration.ofSeconds(30), null);
        if (r.exit() != 0) {
            throw new IOException("podman image inspect " + image + ": " + r.tail());
        }
        return r.output().trim();
    }

    /** The pod with the status a kubelet reports once its container ended with this exit code and termination message. */
    static Pod terminated(Pod pod, String container, int exitCode, String message) {
        String now = Instant.now().toString();
        return new PodBuilder(pod).withNewStatus()
                .withPhase(exitCode == 0 ? "Succeeded" : "Failed")
                .withContainerStatuses(new ContainerStatusBuilder().withName(container).withReady(false).withRestartCount(0)
                        .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode)
                                .withReason(exitCode == 0 ? "Completed" : "Error").withMessage(message).withFinishedAt(now)
                                .endTerminated().build())
                        .build())
                .endStatus().build();
    }

    private static Path worldWritable(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    private static String head(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return new String(bytes, 0, Math.min(bytes.length, TrainerEnv.TERMINATION_MESSAGE_LIMIT), StandardCharsets.UTF_8);
    }

    private static String tail(String log) {
        return log.length() <= LOG_TAIL_BYTES ? log : log.substring(log.length() - LOG_TAIL_BYTES);
    }
}
