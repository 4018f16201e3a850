package io.fedtune.local;

import static io.fedtune.local.QuickstartRuns.RUN_TIMEOUT;
import static io.fedtune.local.QuickstartRuns.condition;
import static io.fedtune.local.QuickstartRuns.isAggregator;
import static io.fedtune.local.QuickstartRuns.isTrainer;
import static io.fedtune.local.QuickstartRuns.label;
import static io.fedtune.local.QuickstartRuns.layoutOf;
import static io.fedtune.local.QuickstartRuns.phase;
import static io.fedtune.local.QuickstartRuns.terminationMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.validation.CrdSchemaValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Faults injected into the smaller quickstart through real processes (s3proxy silos, trainer processes, the operator
 * process), each at a moment the harness waits for (a pod's phase, a status field, an object on a silo's disk), never
 * after a sleep. Training is deterministic, so a fault that does not change what is trained must end with the adapter
 * of the uninterrupted run (the first test); every case also checks that no round was aggregated twice and that the
 * reason shows where people look (history's failed attempts, conditions, Events).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionE2ETest {
    /** S3 ports 30000-30003: neither a person's quickstart (9000-9003) nor QuickstartE2ETest's (29000-29003). */
    private static final int PORT_SHIFT = 21000;
    private static final String RUN = "quickstart";

    private RepoLayout layout;
    private Path quickstart;
    private LocalCluster cluster;
    private QuickstartRuns runs;
    private String uninterruptedSha;
    /** Round 1's global adapter in the uninterrupted run: what a one-round run must end with (no task depends on spec.rounds). */
    private String uninterruptedRound1Sha;
    private int refusedBefore;

    @BeforeAll
    void startCluster() throws Exception {
        layout = RepoLayout.find();
        quickstart = layout.root().resolve("examples/quickstart");
        Path work = Files.createDirectories(layout.root().resolve("operator/local/target/e2e-faults"));
        cluster = LocalCluster.start(layout, QuickstartRuns.languageModelingOnly(QuickstartRuns.smaller(Manifests.load(quickstart), PORT_SHIFT)),
                new CrdSchemaValidator(), quickstart.resolve("data"), layout.baseModel(), work, 2);
        runs = QuickstartRuns.languageModelingOnly(cluster, quickstart, PORT_SHIFT);
        ConfinementRequired.check(cluster.pods().confinement());
    }

    @BeforeEach
    void countRefusals() {
        refusedBefore = cluster.api().refusals().size();
    }

    @AfterEach
    void nothingRefused() {
        cluster.pods().changeBeforeRun(UnaryOperator.identity());
        List<String> refusals = cluster.api().refusals();
        assertThat(refusals.subList(refusedBefore, refusals.size())).as("requests the API server refused").isEmpty();
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void anUninterruptedRunGivesTheAdapterTheFaultsAreComparedWith() throws Exception {
        PodRecorder pods = PodRecorder.watch(cluster.client(), "faults-reference");
        FederatedRun run = runs.runToEnd("faults-reference", ns -> { });
        pods.close();

        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertThat(run.getStatus().history).extracting(r -> r.round).containsExactly(1, 2);
        assertThat(run.getStatus().history).allSatisfy(r -> assertThat(failedAttempts(r)).isZero());
        assertOneAggregationPerRound(pods, 2);
        uninterruptedSha = run.getStatus().bestAdapter.sha256;
        uninterruptedRound1Sha = QuickstartRuns.sha256(cluster.silo(run.getSpec().storage.endpoint).client(),
                S3Uri.parse(layoutOf(run).globalAdapter(1) + "/adapter_model.safetensors"));
    }

    /**
     * A data owner's silo dies before its trainer reads from it, for longer than the pod retries storage (3 s here), and
     * comes back (same port, same folder) once that attempt has failed: the attempt fails DataUnreachable, charged to the
     * shard (its data owner's store, not the run's), and the retry trains on the same data.
     */
    @Test
    @Order(2)
    void aDataSiloKilledBeforeItsTrainerReadsAndRestartedCostsOneAttemptWithAStorageReason() throws Exception {
        String ns = "faults-data-silo";
        String shard = "shard-b";
        String dataEndpoint = runs.manifests().shards().stream().filter(s -> shard.equals(s.getMetadata().getName()))
                .findFirst().orElseThrow().getSpec().data.endpoint;
        PodRecorder pods = PodRecorder.watch(cluster.client(), ns);
        // a backoff longer than s3proxy takes to start, so that the second attempt finds the silo back
        FederatedRun run = runs.runToEnd(ns, m -> {
            oneRound(m);
            m.runs().get(0).getSpec().participation.retryBackoff = "5s";
            m.runs().get(0).getSpec().participation.storageRetryTimeout = "3s";
        }, namespace -> {
            Pod first = runs.awaitPod(namespace, p -> isTrainer(p) && is(p, 1, shard, 1));
            cluster.stopSilo(dataEndpoint);
            Pod ended = runs.awaitPod(namespace, p -> named(p, first) && (phase(p, "Failed") || phase(p, "Succeeded")));
            assertThat(ended.getStatus().getPhase()).as("the trainer had not read its data before its silo went").isEqualTo("Failed");
            cluster.startSilo(dataEndpoint);
        });
        pods.close();

        TrainResult failed = assertRound1RetriedOnceAsUninterrupted(run, pods, ns, shard, FailureReason.DataUnreachable);
        assertThat(failed.message()).as("names the silo it could not reach").contains(dataEndpoint);
        assertThat(events(ns, EventReason.ShardFailed)).allMatch(m -> m.contains(dataEndpoint));
        assertThat(condition(run, STORAGE_UNAVAILABLE)).as("the run's own storage was never out").isNull();
    }

    /**
     * The operator killed (SIGKILL) and started again at each stage of a round: while round 1 trains, the moment round 1
     * is in history (before or as round 2's pods are made), and while round 2 aggregates. The pods go on meanwhile, as on
     * a cluster; QuickstartE2ETest replaces it at a fourth point (round 2's first trainer pod made).
     */
    @Test
    @Order(3)
    void theOperatorKilledWhileTrainingBetweenRoundsAndWhileAggregatingRepeatsNothing() throws Exception {
        String ns = "faults-operator";
        PodRecorder pods = PodRecorder.watch(cluster.client(), ns);
        List<String> kills = new CopyOnWriteArrayList<>();
        FederatedRun run = runs.runToEnd(ns, namespace -> {
            runs.awaitPod(namespace, p -> isTrainer(p) && "1".equals(label(p, PodLabels.ROUND)) && phase(p, "Running"));
            cluster.killOperator();
            kills.add("Training (a round 1 trainer running)");
            cluster.startOperator();

            FederatedRun atKill = killOperatorWhen(namespace, r -> r.getStatus() != null && !r.getStatus().history.isEmpty());
            long round2Pods = cluster.client().pods().inNamespace(namespace).list().getItems().stream()
                    .filter(p -> "2".equals(label(p, PodLabels.ROUND))).count();
            kills.add("between rounds (round 1 in history; status.currentRound " + atKill.getStatus().currentRound
                    + ", " + round2Pods + " round 2 pod(s) existed)");
            cluster.startOperator();

            runs.awaitPod(namespace, p -> isAggregator(p) && "2".equals(label(p, PodLabels.ROUND)) && phase(p, "Running"));
            cluster.killOperator();
            kills.add("Aggregating (round 2's aggregation pod running)");
            cluster.startOperator();
        });
        pods.close();
        System.out.println("operator killed at: " + kills);

        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertThat(run.getStatus().history).extracting(r -> r.round).containsExactly(1, 2);
        assertThat(run.getStatus().history).allSatisfy(r -> assertThat(failedAttempts(r)).isZero());
        assertSameAdapterAsUninterrupted(run);
        assertOneAggregationPerRound(pods, 2);
        assertThat(pods.seen()).filteredOn(QuickstartRuns::isTrainer)
                .as("one trainer per shard and round, none made again by a new operator")
                .extracting(p -> label(p, PodLabels.ROUND) + "/" + label(p, PodLabels.SHARD) + "/a" + label(p, PodLabels.ATTEMPT))
                .containsExactlyInAnyOrder("1/shard-a/a1", "1/shard-b/a1", "1/shard-c/a1", "2/shard-a/a1", "2/shard-b/a1", "2/shard-c/a1");
        assertThat(events(ns, EventReason.RoundFinished)).as("each round recorded once").hasSize(QuickstartRuns.ROUNDS);
    }

    /**
     * A trainer killed (its process tree, SIGKILL) once its first output object is on the run silo's disk: the upload
     * had begun and not been reported. The attempt fails without a result, the retry writes under its own attempt's
     * prefix, and the half-written one is never aggregated.
     */
    @Test
    @Order(4)
    void aTrainerKilledWhileItUploadsItsAdapterIsRetriedAndItsPartialUploadIsNotUsed() throws Exception {
        String ns = "faults-upload";
        String shard = "shard-c";
        PodRecorder pods = PodRecorder.watch(cluster.client(), ns);
        List<String> onDiskAtKill = new CopyOnWriteArrayList<>();
        boolean[] aliveAtKill = new boolean[1];
        FederatedRun run = runs.runToEnd(ns, FaultInjectionE2ETest::oneRound, namespace -> {
            Pod trainer = runs.awaitPod(namespace, p -> isTrainer(p) && is(p, 1, shard, 1) && phase(p, "Running"));
            ProcessHandle process = cluster.pods().process(namespace, trainer.getMetadata().getName()).orElseThrow();
            FederatedRun r = runs.run(namespace, RUN);
            S3Uri prefix = S3Uri.parse(layoutOf(r).shardAdapter(1, shard, 1));
            Path folder = cluster.silo(r.getSpec().storage.endpoint).dataDir().resolve(prefix.bucket()).resolve(prefix.key());
            await().atMost(RUN_TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2))
                    .until(() -> !filesUnder(folder).isEmpty() || !process.isAlive());
            aliveAtKill[0] = process.isAlive();
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            onDiskAtKill.addAll(filesUnder(folder));
        });
        pods.close();
        System.out.println("trainer killed with these of its objects on the silo's disk: " + onDiskAtKill);

        assertThat(aliveAtKill[0]).as("the trainer was still running when its upload began").isTrue();
        assertThat(onDiskAtKill).as("the upload had begun").isNotEmpty();
        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertSameAdapterAsUninterruptedRound1(run);
        assertOneAggregationPerRound(pods, 1);
        assertOneFailedAttempt(run.getStatus().history.get(0), shard, FailureReason.ContainerFailed);
        assertThat(attempt(pods, 1, shard, 1).getStatus().getPhase()).isEqualTo("Failed");
        assertThat(terminationMessage(attempt(pods, 1, shard, 1))).as("no contract result: it died before writing one")
                .doesNotContain("\"outcome\"");
        assertThat(attempt(pods, 1, shard, 2).getStatus().getPhase()).isEqualTo("Succeeded");
        assertRetriedNotFailed(run, ns, shard, FailureReason.ContainerFailed);
    }

    /**
     * A trainer whose scratch volume is full: its pod's scratch is a 64 KiB memory-backed emptyDir (a cluster's
     * {@code medium: Memory} with a sizeLimit is such a tmpfs), given to that one attempt by the local kubelet's hook as a
     * mutating webhook would. ScratchFull is not permanent, so the next attempt, with a fresh scratch, is made.
     */
    @Test
    @Order(5)
    void aTrainerWithAFullScratchVolumeFailsWithScratchFullNamingThePathAndIsRetried() throws Exception {
        assertThat(FailureReason.ScratchFull.permanent()).as("the retry rule: another pod may get more disk").isFalse();
        String ns = "faults-scratch";
        String shard = "shard-a";
        cluster.pods().changeBeforeRun(p -> ns.equals(p.getMetadata().getNamespace()) && isTrainer(p) && is(p, 1, shard, 1)
                ? tinyScratch(p) : p);
        PodRecorder pods = PodRecorder.watch(cluster.client(), ns);
        FederatedRun run = runs.runToEnd(ns, FaultInjectionE2ETest::oneRound, namespace -> { });
        pods.close();

        TrainResult failed = assertRound1RetriedOnceAsUninterrupted(run, pods, ns, shard, FailureReason.ScratchFull);
        assertThat(failed.message()).as("names the path it could not write").contains(TrainerEnv.DEFAULT_WORK_DIR + "/");
    }

    /**
     * The run's storage frozen (SIGSTOP) for 25 s while round 1 trains, then killed for 25 s, five times the 5 s the
     * pods retry storage, while round 2 trains. Frozen, calls wait and go on: nothing fails. Killed, attempts fail
     * StorageUnreachable; they are charged to no shard and retried after the backoff, StorageUnavailable=True says so
     * meanwhile, and once the silo is back the run goes on and ends with the uninterrupted run's adapter.
     */
    @Test
    @Order(6)
    void theRunsStoragePausedThenKilledForLongerThanThePodsRetryChargesNoShardAndShowsStorageUnavailable() throws Exception {
        String ns = "faults-storage-outage";
        Duration outage = Duration.ofSeconds(25);
        PodRecorder pods = PodRecorder.watch(cluster.client(), ns);
        List<Instant> unavailableSeen = new CopyOnWriteArrayList<>();
        SharedIndexInformer<FederatedRun> watch = cluster.client().resources(FederatedRun.class).inNamespace(ns)
                .inform(onEvery(r -> {
                    if (r.getStatus() != null && "True".equals(condition(r, STORAGE_UNAVAILABLE))) {
                        unavailableSeen.add(Instant.now());
                    }
                }));
        FederatedRun run;
        try {
            run = runs.runToEnd(ns, m -> m.runs().get(0).getSpec().participation.storageRetryTimeout = "5s", namespace -> {
                String storage = runs.run(namespace, RUN).getSpec().storage.endpoint;
                runs.awaitPod(namespace, p -> isTrainer(p) && "1".equals(label(p, PodLabels.ROUND)) && phase(p, "Running"));
                Instant paused = Instant.now();
                cluster.pauseSilo(storage);
                try {
                    await().atMost(outage.plusSeconds(5)).until(() -> Duration.between(paused, Instant.now()).compareTo(outage) >= 0);
                } finally {
                    cluster.resumeSilo(storage);
                }
                runs.awaitPod(namespace, p -> isTrainer(p) && "2".equals(label(p, PodLabels.ROUND)) && phase(p, "Running"));
                Instant killed = Instant.now();
                cluster.stopSilo(storage);
                try {
                    await().atMost(outage.plusSeconds(60)).until(() -> unavailableSeen.stream().anyMatch(t -> t.isAfter(killed))
                            && Duration.between(killed, Instant.now()).compareTo(outage) >= 0);
                } finally {
                    cluster.startSilo(storage);
                }
            });
        } finally {
            watch.close();
            pods.close();
        }

        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertSameAdapterAsUninterrupted(run);
        assertOneAggregationPerRound(pods, 2);
        assertThat(run.getStatus().history).as("an outage of the run's storage is charged to no shard: all took part")
                .allSatisfy(r -> assertThat(r.participants).containsExactlyInAnyOrder("shard-a", "shard-b", "shard-c"))
                .allSatisfy(r -> assertThat(r.failedAttemptReasons == null ? java.util.Set.<String>of() : r.failedAttemptReasons.keySet())
                        .as("round %d's failed attempts", r.round).isSubsetOf(FailureReason.StorageUnreachable.name()));
        assertThat(run.getStatus().history.get(0).failedAttempts).as("frozen, calls waited: nothing failed in round 1")
                .isIn(null, 0);
        assertThat(failedAttempts(run.getStatus().history.get(1))).as("killed, round 2's attempts failed").isPositive();
        assertThat(unavailableSeen).as("StorageUnavailable=True while it was out").isNotEmpty();
        assertThat(condition(run, STORAGE_UNAVAILABLE)).as("not shown once storage is back").isEqualTo("False");
        assertThat(events(ns, EventReason.StorageUnavailable)).as("said once per outage").hasSize(1)
                .allMatch(m -> m.contains(run.getSpec().storage.endpoint));
        assertThat(events(ns, EventReason.StorageAvailable)).hasSize(1);
    }

    /**
     * {@code fedtune-local up} stopped with SIGTERM (as timeout, a CI runner or an IDE's stop button do) once its silos,
     * operator and a trainer run: no child is left, and the next {@code up} on the same ports and folder starts clean.
     */
    @Test
    @Order(7)
    void fedtuneLocalUpStoppedWithSigtermLeavesNoChildAndTheNextUpStartsClean() throws Exception {
        Path base = cluster.workDir().resolve("up");
        Path manifests = writeManifests(QuickstartRuns.languageModelingOnly(QuickstartRuns.smaller(Manifests.load(quickstart), PORT_SHIFT + 1000)),
                base.resolve("manifests"));
        Path work = base.resolve("work");
        for (int up = 1; up <= 2; up++) {
            Process process = new ProcessBuilder(S3Silo.javaBin(), "-cp", System.getProperty("java.class.path"),
                    FedtuneLocal.class.getName(), "up", manifests.toString(), "--data",
                    layout.root().resolve("examples/quickstart/data").toString(), "--work-dir", work.toString(), "--slots", "1")
                    .directory(layout.root().toFile()).redirectErrorStream(true)
                    .redirectOutput(base.resolve("up-" + up + ".log").toFile()).start();
            try {
                await("up #" + up + " runs its silos, its operator and a trainer").atMost(Duration.ofMinutes(5))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> !process.isAlive() || (commandLines(process).anyMatch(c -> c.contains("s3proxy"))
                                && commandLines(process).anyMatch(c -> c.contains(layout.operatorJar().getFileName().toString()))
                                && commandLines(process).anyMatch(c -> c.contains(layout.trainerJar().getFileName().toString()))));
                assertThat(process.isAlive()).as("up #%d started (see %s)", up, base.resolve("up-" + up + ".log")).isTrue();
                List<ProcessHandle> children = process.descendants().toList();
                process.destroy(); // SIGTERM
                assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("up #%d stops on SIGTERM", up).isTrue();
                await("up #" + up + " left no child process").atMost(Duration.ofSeconds(30))
                        .until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
            } finally {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
    }

    private static final String STORAGE_UNAVAILABLE = io.fedtune.api.v1alpha1.ConditionType.STORAGE_UNAVAILABLE;

    /** Kills the operator from the watch event in which the run first matches: as close to that moment as a watch gets. */
    private FederatedRun killOperatorWhen(String namespace, Predicate<FederatedRun> moment) throws Exception {
        CompletableFuture<FederatedRun> killed = new CompletableFuture<>();
        SharedIndexInformer<FederatedRun> informer = cluster.client().resources(FederatedRun.class).inNamespace(namespace)
                .inform(onEvery(r -> {
                    if (!killed.isDone() && moment.test(r)) {
                        try {
                            cluster.killOperator();
                            killed.complete(r);
                        } catch (Exception | Error e) {
                            killed.completeExceptionally(e);
                        }
                    }
                }));
        try {
            return killed.get(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            informer.close();
        }
    }

    private static <T> ResourceEventHandler<T> onEvery(java.util.function.Consumer<T> seen) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T r) {
                seen.accept(r);
            }

            @Override
            public void onUpdate(T old, T r) {
                seen.accept(r);
            }

            @Override
            public void onDelete(T r, boolean finalStateUnknown) {
            }
        };
    }

    /** The pod with its scratch volume (mounted at FEDTUNE_WORK_DIR) a 64 KiB memory-backed emptyDir. */
    private static Pod tinyScratch(Pod pod) {
        String scratch = pod.getSpec().getContainers().get(0).getVolumeMounts().stream()
                .filter(m -> TrainerEnv.DEFAULT_WORK_DIR.equals(m.getMountPath())).map(VolumeMount::getName)
                .findFirst().orElseThrow();
        return new PodBuilder(pod).editSpec().editMatchingVolume(v -> scratch.equals(v.getName())).editEmptyDir()
                .withMedium("Memory").withSizeLimit(new Quantity("64Ki")).endEmptyDir().endVolume().endSpec().build();
    }

    /** One round instead of two, for faults within round 1: faster, and compared with round 1's adapter. */
    private static void oneRound(Manifests m) {
        m.runs().get(0).getSpec().rounds = 1;
    }

    /**
     * A one-round run whose shard failed its first attempt with the reason and succeeded its second: it ends as the
     * uninterrupted run's round 1, aggregated once. Returns the failed attempt's result.
     */
    private TrainResult assertRound1RetriedOnceAsUninterrupted(FederatedRun run, PodRecorder pods, String ns, String shard,
            FailureReason reason) {
        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertSameAdapterAsUninterruptedRound1(run);
        assertOneAggregationPerRound(pods, 1);
        assertOneFailedAttempt(run.getStatus().history.get(0), shard, reason);
        TrainResult failed = result(attempt(pods, 1, shard, 1));
        assertThat(failed.reason()).isEqualTo(reason.name());
        assertThat(attempt(pods, 1, shard, 2).getStatus().getPhase()).isEqualTo("Succeeded");
        assertRetriedNotFailed(run, ns, shard, reason);
        return failed;
    }

    private void assertSameAdapterAsUninterruptedRound1(FederatedRun run) {
        assertThat(uninterruptedRound1Sha).as("needs the uninterrupted run first").isNotNull();
        assertThat(run.getStatus().history).extracting(r -> r.round).containsExactly(1);
        assertThat(run.getStatus().bestAdapter.sha256).as("round 1's adapter of the uninterrupted run").isEqualTo(uninterruptedRound1Sha);
    }

    private void assertSameAdapterAsUninterrupted(FederatedRun run) {
        assertThat(uninterruptedSha).as("needs the uninterrupted run first").isNotNull();
        assertThat(run.getStatus().bestAdapter.sha256).as("the adapter of the uninterrupted run").isEqualTo(uninterruptedSha);
    }

    private static void assertOneAggregationPerRound(PodRecorder pods, int rounds) {
        assertThat(pods.seen()).filteredOn(QuickstartRuns::isAggregator)
                .as("one aggregation pod per round, none repeated")
                .allMatch(p -> phase(p, "Succeeded"))
                .extracting(p -> label(p, PodLabels.ROUND))
                .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.rangeClosed(1, rounds).mapToObj(Integer::toString).toList());
    }

    /** History counts the one failed attempt with its reason, and the shard's update still went into the round. */
    private static void assertOneFailedAttempt(RoundSummary round, String shard, FailureReason reason) {
        assertThat(round.failedAttempts).as("failedAttempts of round %d", round.round).isEqualTo(1);
        assertThat(round.failedAttemptReasons).as("failedAttemptReasons").containsExactly(entry(reason.name(), 1));
        assertThat(round.failedAttemptShards).as("failedAttemptShards").containsExactly(shard);
        assertThat(round.participants).as("the shard's retry was aggregated").contains(shard);
        assertThat(round.failed).as("no shard failed for good").isEmpty();
    }

    /**
     * The failed attempt has its Warning Event (ShardFailed, with the reason and the retry), and a shard whose retry
     * succeeded leaves the run not Degraded.
     */
    private void assertRetriedNotFailed(FederatedRun run, String namespace, String shard, FailureReason reason) {
        assertThat(events(namespace, EventReason.ShardFailed)).singleElement().asString()
                .contains("round 1: shard " + shard + " attempt 1 failed (" + reason.name() + ")")
                .contains("starting attempt 2");
        assertThat(condition(run, "Degraded")).isEqualTo("False");
    }

    private List<String> events(String namespace, EventReason reason) {
        return cluster.client().v1().events().inNamespace(namespace).list().getItems().stream()
                .filter(e -> reason.name().equals(e.getReason())).map(e -> e.getMessage()).toList();
    }

    private static long failedAttempts(RoundSummary r) {
        return r.failedAttempts == null ? 0 : r.failedAttempts;
    }

    private static boolean is(Pod p, int round, String shard, int attempt) {
        return Integer.toString(round).equals(label(p, PodLabels.ROUND)) && shard.equals(label(p, PodLabels.SHARD))
                && Integer.toString(attempt).equals(label(p, PodLabels.ATTEMPT));
    }

    private static boolean named(Pod p, Pod other) {
        return p.getMetadata().getName().equals(other.getMetadata().getName());
    }

    private static Pod attempt(PodRecorder pods, int round, String shard, int attempt) {
        return pods.seen().stream().filter(p -> isTrainer(p) && is(p, round, shard, attempt)).findFirst()
                .orElseThrow(() -> new AssertionError("no trainer pod for round " + round + ", " + shard + ", attempt " + attempt));
    }

    private static TrainResult result(Pod pod) {
        String message = terminationMessage(pod);
        assertThat(message).as("termination message of %s", pod.getMetadata().getName()).isNotNull();
        return ContractJson.read(message, TrainResult.class);
    }

    /** Regular files under a folder, relative to it; empty while it does not exist. */
    private static List<String> filesUnder(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).map(f -> folder.relativize(f).toString()).sorted().toList();
        } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException movedWhileListed) {
            return List.of("(changing)");
        }
    }

    private static Stream<String> commandLines(Process process) {
        return process.descendants().map(h -> h.info().commandLine().orElse(""));
    }

    private static Path writeManifests(Manifests manifests, Path dir) throws IOException {
        Files.createDirectories(dir);
        String yaml = manifests.resources().stream().map(Serialization::asYaml).collect(Collectors.joining("\n---\n"));
        Files.writeString(dir.resolve("all.yaml"), yaml);
        return dir;
    }
}
