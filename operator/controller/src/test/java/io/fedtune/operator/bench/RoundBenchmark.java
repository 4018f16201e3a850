package io.fedtune.operator.bench;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.fedtune.operator.apiserver.Admin;
import io.fedtune.operator.apiserver.StrictApiServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Rounds per second and time per round with pods that finish at once (the fake kubelet), for 10, 100 and 1,000
 * shards, and the heap after each. Not part of the test suite (the class name does not match Surefire's patterns);
 * run with: mvn -pl operator/controller test -Dtest=RoundBenchmark -Dfedtune.bench=true
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = StrictApiServer.class)
class RoundBenchmark {
    @Inject
    @Admin
    KubernetesClient client;

    @Test
    void roundsPerSecond() {
        assumeTrue(Boolean.getBoolean("fedtune.bench"), "set -Dfedtune.bench=true");
        Fixtures.kubelet(client);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%n%8s %7s %12s %14s %18s %12s%n",
                "shards", "rounds", "rounds/s", "s per round", "JVM CPU s/round", "heap MiB"));
        for (int shards : Arrays.stream(System.getProperty("fedtune.bench.shards", "10,100,1000").split(",")).mapToInt(Integer::parseInt).toArray()) {
            int rounds = shards >= 1000 ? 2 : shards >= 100 ? 3 : 5;
            String group = "bench" + shards;
            for (int i = 0; i < shards; i++) {
                client.resource(Fixtures.shard(group + "-" + i, group)).create();
            }
            long cpuBefore = reconcilerCpu(threads);
            long start = System.nanoTime();
            FederatedRun run = Fixtures.run(group, group, rounds);
            run.getSpec().participation.roundTimeout = "10m";
            client.resource(run).create();
            try {
                await().atMost(Duration.ofSeconds(Long.getLong("fedtune.bench.timeout", 300))).pollInterval(Duration.ofMillis(200)).until(() -> {
                    FederatedRun r = Fixtures.get(client, group);
                    return r.getStatus() != null && r.getStatus().phase == Phase.Succeeded;
                });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                var status = Fixtures.get(client, group).getStatus();
                if (status != null) {
                    status.roundShards = null;
                }
                throw new AssertionError("run " + group + " did not finish: " + io.fedtune.api.contract.ContractJson.write(status)
                        + "; " + podSummary(group), e);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpu = (reconcilerCpu(threads) - cpuBefore) / 1e9;
            System.gc();
            Runtime rt = Runtime.getRuntime();
            long heap = (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024);
            table.append(String.format(Locale.ROOT, "%8d %7d %12.3f %14.3f %18.3f %12d%n", shards, rounds, rounds / seconds,
                    seconds / rounds, cpu / rounds, heap));
            client.resources(FederatedRun.class).inNamespace(Fixtures.NAMESPACE).withName(group).delete();
            client.resources(ClientShard.class).inNamespace(Fixtures.NAMESPACE).withLabel("group", group).delete();
        }
        System.out.println("fedtune operator benchmark (fake kubelet, in-process API server, "
                + Runtime.getRuntime().availableProcessors() + " cores)" + table);
    }

    /** Pods of the run by role and phase, and the aggregation pods the fake kubelet saw: where a stuck run stands. */
    private String podSummary(String run) {
        var pods = Fixtures.pods(client, run);
        var byRolePhase = new java.util.TreeMap<String, Integer>();
        for (var pod : pods) {
            String key = pod.getMetadata().getLabels().get(io.fedtune.operator.pods.PodLabels.ROLE) + "/"
                    + (pod.getStatus() == null ? null : pod.getStatus().getPhase());
            byRolePhase.merge(key, 1, Integer::sum);
        }
        var aggregators = pods.stream().filter(p -> p.getMetadata().getName().contains("-agg-")).map(p -> p.getMetadata().getName()
                + "=" + (p.getStatus() == null ? null : p.getStatus().getPhase())).toList();
        var kubeletSaw = Fixtures.kubelet(client).createdPods().stream().filter(n -> n.startsWith(run + "-") && n.contains("-agg-")).toList();
        return "pods by role/phase " + byRolePhase + ", aggregation pods " + aggregators + ", aggregation pods the fake kubelet saw "
                + kubeletSaw;
    }

    /**
     * CPU time of the whole test JVM: operator, in-process API server and fake kubelet together (JOSDK runs each
     * reconcile on a short-lived thread, so per-thread accounting loses most of it). An upper bound on the operator's.
     */
    private static long reconcilerCpu(ThreadMXBean threads) {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
