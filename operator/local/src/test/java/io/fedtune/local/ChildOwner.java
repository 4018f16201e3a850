package io.fedtune.local;

import java.util.ArrayList;
import java.util.List;

/**
 * A small JVM that starts children the way fedtune-local does, through {@link ChildProcesses}, for
 * {@link ChildProcessesTest} to kill: one from the main thread, one from a thread that has ended since (PDEATHSIG
 * follows the forking thread), and one that ignores SIGTERM. Prints "child PID" for each, then "ready", then waits.
 */
public final class ChildOwner {

    public static void main(String[] args) throws Exception {
        List<Process> children = new ArrayList<>();
        children.add(ChildProcesses.start(new ProcessBuilder("sleep", "600")));
        Thread shortLived = new Thread(() -> {
            try {
                children.add(ChildProcesses.start(new ProcessBuilder("sleep", "601")));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        shortLived.start();
        shortLived.join();
        children.add(ChildProcesses.start(new ProcessBuilder("sh", "-c", "trap '' TERM; exec sleep 602")));
        children.forEach(c -> System.out.println("child " + c.pid()));
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
