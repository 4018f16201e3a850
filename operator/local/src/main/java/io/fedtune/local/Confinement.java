package io.fedtune.local;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * How the local kubelet starts a container's process: inside bubblewrap as its securityContext says, or, where
 * bubblewrap is missing or cannot run, as a plain process with the runner's privileges (and a loud warning).
 */
public sealed interface Confinement permits Bubblewrap, Unconfined {

    /** The process to start for a container; its environment is the container's alone. */
    ProcessBuilder processFor(ContainerLaunch launch);

    /** Whether containers run confined (user, read-only root, only their volumes writable). */
    boolean confines();

    /** One line for people: how pods run here. */
    String describe();

    /**
     * Bubblewrap where it is installed and works on this machine, else {@link Unconfined} saying why.
     *
     * @param hidden host folders pods must not see (other pods' volumes, the silos' disks): empty inside the sandbox
     */
    static Confinement detect(List<Path> hidden) {
        Optional<Path> bwrap = onPath("bwrap");
        if (bwrap.isEmpty()) {
            return new Unconfined("bubblewrap (bwrap) is not installed; install it with `apt-get install -y bubblewrap`");
        }
        boolean root = Bubblewrap.runnerIsRoot();
        Optional<Path> setpriv = onPath("setpriv");
        if (root && setpriv.isEmpty()) {
            return new Unconfined("setpriv (util-linux) is not installed; it drops root to the pod's user");
        }
        Bubblewrap confinement = new Bubblewrap(bwrap.get(), setpriv.orElse(null), root, hidden);
        return confinement.probe().<Confinement>map(Unconfined::new).orElse(confinement);
    }

    private static Optional<Path> onPath(String program) {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate.toAbsolutePath());
            }
        }
        return Optional.empty();
    }
}
