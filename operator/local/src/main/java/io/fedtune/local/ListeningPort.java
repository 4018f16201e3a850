package io.fedtune.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Who listens on a local TCP port, from /proc alone (nothing to install): the listening sockets' inodes in
 * /proc/net/tcp and tcp6, then the process whose /proc/PID/fd links to one of them.
 */
final class ListeningPort {
    private static final String LISTEN = "0A";

    private ListeningPort() {
    }

    /** Whether this process could listen on 127.0.0.1:port now. */
    static boolean isFree(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true); // a closed connection's TIME_WAIT does not hold the port
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** Whether anything listens on the port, as /proc/net/tcp{,6} says. */
    static boolean isListenedOn(int port) {
        return !socketInodes(port).isEmpty();
    }

    /** Whether that process listens on the port. */
    static boolean isHeldBy(long pid, int port) {
        Set<String> inodes = socketInodes(port);
        return !inodes.isEmpty() && holdsOne(Path.of("/proc", Long.toString(pid)), inodes);
    }

    /** The pid of a process listening on the port, if one is listening and this user may see its sockets. */
    static Optional<Long> holderPid(int port) {
        Set<String> inodes = socketInodes(port);
        if (inodes.isEmpty()) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path proc : procs) {
                if (holdsOne(proc, inodes)) {
                    return Optional.of(Long.parseLong(proc.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** "pid 123 (java -jar s3proxy.jar ...)", or why the holder is unknown. */
    static String describeHolder(int port) {
        return holderPid(port).map(pid -> "pid " + pid + " (" + commandLine(pid) + ")")
                .orElse(isListenedOn(port) ? "a process this user cannot see (its sockets are not in any /proc/PID/fd readable here)"
                        : "a process that could not be identified (no listening socket on the port in /proc/net/tcp or tcp6)");
    }

    static String commandLine(long pid) {
        try {
            String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ').trim();
            return cmd.length() > 300 ? cmd.substring(0, 300) + " ..." : cmd;
        } catch (IOException e) {
            return "command line unreadable";
        }
    }

    private static boolean holdsOne(Path proc, Set<String> inodes) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                        return true;
                    }
                } catch (IOException closedMeanwhile) {
                    // next
                }
            }
        } catch (IOException | SecurityException notOurs) {
            return false;
        }
        return false;
    }

    private static Set<String> socketInodes(int port) {
        Set<String> inodes = new HashSet<>();
        String hexPort = String.format(":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table)).stream().skip(1).toList()) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[1].endsWith(hexPort) && LISTEN.equals(f[3])) {
                        inodes.add(f[9]);
                    }
                }
            } catch (IOException noSuchTable) {
                // no IPv6 here
            }
        }
        return inodes;
    }
}
