package io.fedtune.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The one place local mode starts processes (silos, the operator, pods, the trainer's host commands), so that every
 * child dies with fedtune-local however it ends. Each runs under {@code setpriv --pdeathsig KILL}: the kernel kills it
 * when its parent thread ends, which a crash or kill -9 cannot skip. PDEATHSIG follows the thread that forked, not the
 * process, so every child is forked from one thread that lives as long as the JVM (from a pool thread, it would die
 * when that thread did). On a normal exit, SIGINT or SIGTERM a shutdown hook first stops them gently (SIGTERM, then
 * SIGKILL after {@link #GRACE}), and no new child starts once it has begun.
 */
public final class ChildProcesses {
    static final Duration GRACE = Duration.ofSeconds(5);
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final Object LOCK = new Object();
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final ExecutorService FORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fedtune-local-forker");
        t.setDaemon(true);
        return t;
    });
    private static boolean stopping;
    private static boolean warned;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcesses::stopAll, "fedtune-local-stop-children"));
    }

    private ChildProcesses() {
    }

    /**
     * Starts the builder's command as a child that dies with this JVM. The builder's command gets the setpriv prefix.
     *
     * @throws IOException where it cannot start, or this JVM is shutting down
     */
    public static Process start(ProcessBuilder builder) throws IOException {
        builder.command(owned(builder.command()));
        Future<Process> started = FORKER.submit(() -> {
            synchronized (LOCK) {
                if (stopping) {
                    throw new IOException("fedtune-local is stopping; not starting " + builder.command());
                }
                Process p = builder.start();
                LIVE.add(p);
                p.onExit().thenRun(() -> LIVE.remove(p));
                return p;
            }
        });
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return started.get();
                } catch (InterruptedException e) {
                    interrupted = true; // a started child must not leak untracked: wait for it
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether fedtune-local is ending: its shutdown hook is stopping every child. */
    public static boolean stopping() {
        synchronized (LOCK) {
            return stopping;
        }
    }

    /** The children started here that still run. */
    public static List<ProcessHandle> live() {
        return LIVE.stream().map(Process::toHandle).toList();
    }

    private static List<String> owned(List<String> command) {
        if (!Files.isExecutable(SETPRIV)) {
            synchronized (LOCK) {
                if (!warned) {
                    warned = true;
                    System.err.println("WARNING: fedtune local: " + SETPRIV + " (util-linux) is missing; children started "
                            + "now outlive fedtune-local if it is killed with -9");
                }
            }
            return command;
        }
        if (!command.isEmpty() && command.get(0).equals(SETPRIV.toString()) && command.contains("--pdeathsig")) {
            return command;
        }
        List<String> owned = new ArrayList<>(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        owned.addAll(command);
        return owned;
    }

    private static void stopAll() {
        List<Process> children;
        synchronized (LOCK) {
            stopping = true;
            children = new ArrayList<>(LIVE);
        }
        for (Process p : children) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        Instant deadline = Instant.now().plus(GRACE);
        for (Process p : children) {
            try {
                long left = Duration.between(Instant.now(), deadline).toMillis();
                if (left <= 0 || !p.waitFor(left, TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
    }
}
