package io.fedtune.local;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The operator kept running as its Deployment would keep it: whenever the process exits, another starts after a
 * backoff that doubles up to a bound (a kubelet's CrashLoopBackOff, shorter) and resets once one has run for
 * {@link #STEADY}. Each exit is announced as "operator exited with code N; restarting (restart k)".
 */
public final class OperatorDeployment implements AutoCloseable {
    static final Duration STEADY = Duration.ofMinutes(1);

    /** Starts one operator process and returns once it is ready. */
    @FunctionalInterface
    public interface Launch {
        OperatorProcess start() throws IOException, InterruptedException;
    }

    private final Launch launch;
    private final Consumer<String> events;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final Thread keeper;
    private volatile OperatorProcess current;
    private volatile boolean stopped;
    private volatile int restarts;

    private OperatorDeployment(Launch launch, Consumer<String> events, Duration firstBackoff, Duration maxBackoff) {
        this.launch = launch;
        this.events = events;
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.keeper = new Thread(this::keep, "operator-deployment");
        this.keeper.setDaemon(true);
    }

    /** Starts the first operator (its failure to get ready throws, as before) and keeps one running from then on. */
    public static OperatorDeployment start(Launch launch, Consumer<String> events, Duration firstBackoff, Duration maxBackoff)
            throws IOException, InterruptedException {
        OperatorDeployment deployment = new OperatorDeployment(launch, events, firstBackoff, maxBackoff);
        deployment.current = launch.start();
        deployment.keeper.start();
        return deployment;
    }

    /** The running operator's process, if one runs now. */
    public Optional<ProcessHandle> process() {
        OperatorProcess p = current;
        return p == null ? Optional.empty() : Optional.of(p.handle()).filter(ProcessHandle::isAlive);
    }

    /** How many times the operator has been restarted. */
    public int restarts() {
        return restarts;
    }

    private void keep() {
        int crashes = 0;
        while (!stopped) {
            OperatorProcess running = current;
            Instant started = Instant.now();
            int code;
            try {
                code = running.awaitExit();
            } catch (InterruptedException e) {
                return;
            }
            if (stopped || ChildProcesses.stopping()) {
                return; // fedtune-local is ending: its shutdown stopped the operator
            }
            crashes = Duration.between(started, Instant.now()).compareTo(STEADY) >= 0 ? 0 : crashes;
            current = null;
            while (!stopped && current == null) {
                Duration backoff = backoff(crashes++);
                restarts++;
                events.accept("operator exited with code " + code + "; restarting (restart " + restarts + ") in "
                        + backoff.toMillis() / 1000.0 + " s");
                try {
                    Thread.sleep(backoff.toMillis());
                    if (!stopped) {
                        current = launch.start();
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (IOException | RuntimeException e) {
                    events.accept("operator restart " + restarts + " failed: " + e.getMessage());
                    code = -1;
                }
            }
        }
    }

    /** firstBackoff, doubled per crash in a row, at most maxBackoff. */
    Duration backoff(int crashesInARow) {
        Duration d = firstBackoff;
        for (int i = 0; i < crashesInARow && d.compareTo(maxBackoff) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
    }

    /** Stops keeping the operator and kills it at once, mid-whatever it was doing. */
    public void kill() throws InterruptedException {
        stopped = true;
        keeper.interrupt();
        OperatorProcess p = current;
        if (p != null) {
            p.kill();
        }
        keeper.join(10_000);
    }

    /** Stops keeping the operator and stops it gently. */
    @Override
    public void close() {
        stopped = true;
        keeper.interrupt();
        OperatorProcess p = current;
        if (p != null) {
            p.close();
        }
    }
}
