package io.fedtune.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A container confined by bubblewrap, as far as one machine allows: this machine's filesystem read-only in place of the
 * image (the JDK and the trainer jar are reachable there), fresh /proc, /dev and /tmp, only the pod's volumes and its
 * termination message file writable, the runner's work folders hidden, its own pid, IPC and UTS namespaces, and the
 * pod's uid, gid and groups (as root: bubblewrap, then setpriv drops to the user with the capabilities the
 * securityContext leaves; as another user: a user namespace mapping the runner to the pod's uid).
 */
public final class Bubblewrap implements Confinement {
    /** What Docker and containerd leave a root container by default. */
    private static final List<String> RUNTIME_DEFAULT_CAPABILITIES = List.of("chown", "dac_override", "fowner", "fsetid",
            "kill", "setgid", "setuid", "setpcap", "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write",
            "setfcap");
    private static final Set<Path> FRESH_AT_ROOT = Set.of(Path.of("/proc"), Path.of("/dev"), Path.of("/tmp"));
    private static final Path ROOT = Path.of("/");

    private final Path bwrap;
    private final Path setpriv;
    private final boolean asRoot;
    private final List<Path> hidden;

    Bubblewrap(Path bwrap, Path setpriv, boolean asRoot, List<Path> hidden) {
        this.bwrap = bwrap;
        this.setpriv = setpriv;
        this.asRoot = asRoot;
        this.hidden = hidden.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    @Override
    public ProcessBuilder processFor(ContainerLaunch launch) {
        ProcessBuilder builder = new ProcessBuilder(arguments(launch)).directory(launch.podDir().toFile());
        builder.environment().clear();
        builder.environment().putAll(launch.env());
        return builder;
    }

    @Override
    public boolean confines() {
        return true;
    }

    @Override
    public String describe() {
        return "pods run confined by bubblewrap (" + bwrap + (asRoot ? ", dropping to the pod's user with " + setpriv
                : ", in a user namespace") + "): their user, a read-only root, only their volumes writable";
    }

    /** The bwrap command line for a container; its environment travels in the process's environment, not here. */
    List<String> arguments(ContainerLaunch launch) {
        ContainerLaunch.RunAs user = launch.user();
        List<String> args = new ArrayList<>(List.of(bwrap.toString(), "--die-with-parent", "--new-session",
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", launch.hostname()));
        if (!asRoot) {
            args.addAll(List.of("--unshare-user", "--uid", Long.toString(user.uid()), "--gid", Long.toString(user.gid())));
        }
        boolean ownTmp = launch.mounts().stream().anyMatch(m -> m.containerPath().equals("/tmp"));
        List<Path> masks = hidden.stream().filter(Files::isDirectory).sorted(Comparator.comparingInt(Path::getNameCount)).toList();

        // This machine's filesystem in place of the image. Where a mount point does not exist here, the folders above
        // it are rebuilt in a tmpfs from binds of their entries, so it can be made without writing to the host.
        Set<Path> rebuilt = foldersToRebuild(launch, masks);
        if (rebuilt.isEmpty()) {
            args.addAll(List.of("--ro-bind", "/", "/"));
        } else {
            rebuild(ROOT, rebuilt, args);
        }
        args.addAll(List.of("--proc", "/proc", "--dev", "/dev"));
        if (!ownTmp) {
            args.addAll(List.of("--perms", "1777", "--tmpfs", "/tmp"));
        }
        for (Path mask : masks) {
            args.addAll(List.of("--tmpfs", mask.toString()));
        }
        launch.mounts().stream().sorted(Comparator.comparingInt(m -> Path.of(m.containerPath()).getNameCount()))
                .forEach(m -> {
                    folders(Path.of(m.containerPath()).getParent(), args);
                    if (m.memory() != null) {
                        // an emptyDir with medium: Memory; --size caps it as the kubelet caps it at sizeLimit
                        args.addAll(List.of("--perms", "0777"));
                        if (m.memory().sizeBytes() != null) {
                            args.addAll(List.of("--size", Long.toString(m.memory().sizeBytes())));
                        }
                        args.addAll(List.of("--tmpfs", m.containerPath()));
                    } else {
                        args.addAll(List.of(m.readOnly() ? "--ro-bind" : "--bind", m.host().toString(), m.containerPath()));
                    }
                });
        folders(Path.of(launch.workingDir()), args);
        for (Path mask : masks) {
            args.addAll(List.of("--remount-ro", mask.toString()));
        }
        if (launch.readOnlyRoot()) {
            if (!ownTmp) {
                args.addAll(List.of("--remount-ro", "/tmp"));
            }
            if (!rebuilt.isEmpty()) {
                args.addAll(List.of("--remount-ro", "/"));
            }
        }
        args.addAll(List.of("--chdir", launch.workingDir()));
        if (asRoot) {
            args.addAll(dropToUser(user));
        }
        args.addAll(launch.command());
        return args;
    }

    /** Makes a folder and those above it where missing, readable by all (bwrap would make missing parents 0700). */
    private static void folders(Path dir, List<String> args) {
        List<Path> chain = new ArrayList<>();
        for (Path p = dir; p != null && !p.equals(ROOT); p = p.getParent()) {
            chain.add(0, p);
        }
        chain.forEach(p -> args.addAll(List.of("--perms", "0755", "--dir", p.toString())));
    }

    private List<String> dropToUser(ContainerLaunch.RunAs user) {
        List<String> args = new ArrayList<>(List.of(setpriv.toString(), "--reuid", Long.toString(user.uid()),
                "--regid", Long.toString(user.gid())));
        if (user.groups().isEmpty()) {
            args.add("--clear-groups");
        } else {
            args.addAll(List.of("--groups", String.join(",", user.groups().stream().map(String::valueOf).toList())));
        }
        if (user.noNewPrivileges()) {
            args.add("--no-new-privs");
        }
        args.addAll(List.of("--inh-caps=-all", "--bounding-set=" + boundingSet(user), "--"));
        return args;
    }

    /** The capabilities a process may ever hold: the runtime's default set, less what is dropped, plus what is added. */
    static String boundingSet(ContainerLaunch.RunAs user) {
        Set<String> drop = capabilityNames(user.dropCapabilities());
        Set<String> caps = new LinkedHashSet<>(drop.contains("all") ? List.of() : RUNTIME_DEFAULT_CAPABILITIES);
        caps.removeAll(drop);
        caps.addAll(capabilityNames(user.addCapabilities()));
        StringBuilder set = new StringBuilder("-all");
        caps.forEach(c -> set.append(",+").append(c));
        return set.toString();
    }

    private static Set<String> capabilityNames(List<String> names) {
        Set<String> out = new LinkedHashSet<>();
        names.forEach(n -> out.add(n.toLowerCase(Locale.ROOT).replaceFirst("^cap_", "")));
        return out;
    }

    /**
     * Host folders that must become tmpfs copies so that a mount point (or the working directory) missing on the host
     * can be made: its deepest existing folder and everything above it. Paths under /proc, /dev, /tmp, a hidden folder
     * or another mount are made in those, which are writable while the sandbox is set up.
     */
    private static Set<Path> foldersToRebuild(ContainerLaunch launch, List<Path> masks) {
        List<Path> fresh = new ArrayList<>(FRESH_AT_ROOT);
        fresh.addAll(masks);
        launch.mounts().forEach(m -> fresh.add(Path.of(m.containerPath())));
        List<Path> targets = new ArrayList<>();
        launch.mounts().forEach(m -> targets.add(Path.of(m.containerPath())));
        targets.add(Path.of(launch.workingDir()));
        Set<Path> rebuilt = new LinkedHashSet<>();
        for (Path target : targets) {
            if (Files.exists(target) || fresh.stream().anyMatch(f -> !f.equals(target) && target.startsWith(f))) {
                continue;
            }
            Path existing = target.getParent();
            while (!Files.isDirectory(existing)) {
                existing = existing.getParent();
            }
            try {
                existing = existing.toRealPath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (Path p = existing; p != null; p = p.getParent()) {
                rebuilt.add(p);
            }
        }
        return rebuilt;
    }

    /** A host folder as a tmpfs folder holding read-only binds (or the same symlinks) of its entries. */
    private static void rebuild(Path dir, Set<Path> rebuilt, List<String> args) {
        if (!dir.equals(ROOT)) {
            args.addAll(List.of("--perms", mode(dir), "--dir", dir.toString()));
        }
        List<Path> entries;
        try (Stream<Path> list = Files.list(dir)) {
            entries = list.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path entry : entries) {
            if (dir.equals(ROOT) && FRESH_AT_ROOT.contains(entry)) {
                continue;
            }
            if (rebuilt.contains(entry)) {
                rebuild(entry, rebuilt, args);
            } else if (Files.isSymbolicLink(entry)) {
                try {
                    args.addAll(List.of("--symlink", Files.readSymbolicLink(entry).toString(), entry.toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else {
                args.addAll(List.of("--ro-bind-try", entry.toString(), entry.toString()));
            }
        }
    }

    private static String mode(Path dir) {
        try {
            int mode = 0;
            for (PosixFilePermission p : Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)) {
                mode |= 1 << (8 - p.ordinal());
            }
            return String.format("%04o", mode);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a trivial container the same way pods run; empty when it works, else why not. */
    Optional<String> probe() {
        try {
            Path dir = Files.createTempDirectory("fedtune-bwrap-probe");
            try {
                ContainerLaunch launch = new ContainerLaunch("probe", List.of("true"), Map.of("PATH", "/usr/bin:/bin"), "/",
                        new ContainerLaunch.RunAs(65534, 65534, List.of(), true, List.of("ALL"), List.of()), true, List.of(), dir);
                Process p = ChildProcesses.start(processFor(launch).redirectErrorStream(true));
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return Optional.of("bubblewrap did not start a trivial sandbox within 30 s");
                }
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                return p.exitValue() == 0 ? Optional.empty()
                        : Optional.of("bubblewrap cannot make a sandbox on this machine (exit " + p.exitValue() + "): " + out);
            } finally {
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            return Optional.of("bubblewrap could not be started: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while checking bubblewrap");
        }
    }

    static boolean runnerIsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
