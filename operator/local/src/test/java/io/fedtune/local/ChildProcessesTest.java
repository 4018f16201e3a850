package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every child of local mode dies with it, however it ends: a JVM that starts children through {@link ChildProcesses}
 * (as fedtune-local does) is killed with SIGKILL or SIGTERM, under each way the JDK can fork, and the test waits until
 * none of its children is left.
 */
class ChildProcessesTest {

    @ParameterizedTest(name = "{0} with launchMechanism {1}")
    @CsvSource({"KILL, POSIX_SPAWN", "KILL, FORK", "KILL, VFORK", "TERM, POSIX_SPAWN"})
    void childrenDieWithTheirOwner(String signal, String launchMechanism) throws Exception {
        Process owner = new ProcessBuilder(S3Silo.javaBin(), "-Djdk.lang.Process.launchMechanism=" + launchMechanism,
                "-cp", System.getProperty("java.class.path"), ChildOwner.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Long> children = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
            for (String line = out.readLine(); line != null && !line.equals("ready"); line = out.readLine()) {
                children.add(Long.parseLong(line.substring("child ".length())));
            }
            assertThat(children).as("children the owner started").hasSize(3);
            assertThat(children).as("alive before the owner is killed, the one forked by an ended thread too")
                    .allMatch(ChildProcessesTest::alive);

            if (signal.equals("KILL")) {
                owner.destroyForcibly();
            } else {
                owner.destroy();
            }

            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> assertThat(children).as("children still alive").noneMatch(ChildProcessesTest::alive));
        } finally {
            owner.destroyForcibly();
            children.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    /** Alive and not a zombie: a killed child whose new parent does not reap it lingers as one. */
    private static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException gone) {
            return false;
        }
    }
}
