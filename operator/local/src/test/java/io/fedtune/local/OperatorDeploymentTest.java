package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The operator is kept running as a Deployment keeps its pod: restarted after each exit, with a bounded backoff. */
class OperatorDeploymentTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger launches = new AtomicInteger();

    @Test
    void anOperatorThatExitsIsRestartedAndEachRestartIsAnnounced() throws Exception {
        OperatorDeployment.Launch exitsWith3Once = () -> launches.incrementAndGet() == 1 ? fake("exit 3") : fake("exec sleep 600");
        try (OperatorDeployment deployment = OperatorDeployment.start(exitsWith3Once, events::add, Duration.ofMillis(50),
                Duration.ofMillis(200))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> launches.get() == 2 && deployment.process().isPresent());
            ProcessHandle second = deployment.process().orElseThrow();

            second.destroyForcibly();

            await().atMost(Duration.ofSeconds(10)).until(() -> launches.get() == 3 && deployment.process().isPresent());
            assertThat(events).first().asString().startsWith("operator exited with code 3; restarting (restart 1)");
            assertThat(events.get(1)).startsWith("operator exited with code 137; restarting (restart 2)");
            assertThat(deployment.restarts()).isEqualTo(2);
        }
    }

    @Test
    void theBackoffDoublesPerCrashInARowUpToItsBound() throws Exception {
        try (OperatorDeployment deployment = OperatorDeployment.start(() -> fake("exec sleep 600"), events::add,
                Duration.ofSeconds(1), Duration.ofSeconds(30))) {
            assertThat(List.of(0, 1, 2, 3, 4, 5, 6, 50).stream().map(deployment::backoff).map(Duration::toSeconds))
                    .containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L, 30L);
        }
    }

    @Test
    void aKilledDeploymentStartsNoOtherOperator() throws Exception {
        OperatorDeployment deployment = OperatorDeployment.start(() -> {
            launches.incrementAndGet();
            return fake("exec sleep 600");
        }, events::add, Duration.ofMillis(10), Duration.ofMillis(10));
        ProcessHandle first = deployment.process().orElseThrow();

        deployment.kill();

        Thread.sleep(300);
        assertThat(first.isAlive()).isFalse();
        assertThat(launches.get()).isEqualTo(1);
        assertThat(events).isEmpty();
    }

    private static OperatorProcess fake(String script) throws IOException {
        return new OperatorProcess(ChildProcesses.start(new ProcessBuilder("sh", "-c", script)), 0, Path.of("operator.log"));
    }
}
