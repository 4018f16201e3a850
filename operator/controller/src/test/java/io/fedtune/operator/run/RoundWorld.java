package io.fedtune.operator.run;

import io.fedtune.api.contract.FailureReason;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.events.RunEvents;
import io.fedtune.operator.metrics.RunMetrics;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.PodNames;
import io.fedtune.operator.pods.ServerTaskPodBuilder;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.shard.ShardParticipation;
import io.fedtune.operator.validation.Violation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A run's world in memory, for the round steps tested alone (no Quarkus, no API server): pods and task ConfigMaps in a
 * map, Events and shard status writes in lists, metrics in a SimpleMeterRegistry, and a clock the test moves. Each
 * {@link #reconcile()} runs the production path ({@link RoundSteps#reconcile}) on a fresh snapshot of status and pods,
 * and keeps the status it leaves as the run's status, as the status write would.
 */
final class RoundWorld {
    static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    final MutableClock clock = new MutableClock(T0);
    final FakePods pods = new FakePods();
    final List<Event> events = new ArrayList<>();
    final List<String> shardWrites = new ArrayList<>();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final List<ClientShard> shards = new ArrayList<>();
    List<Violation> violations = List.of();
    final RoundActions actions;
    RoundSteps steps;
    FederatedRun run;
    FederatedRunStatus status = new FederatedRunStatus();
    RoundState state;

    /** The base model's files as a scripted preparation reports them, and as a prepared world starts with. */
    static final List<ModelFile> BASE_MODEL = List.of(new ModelFile("config.json", "sha-config", 600L),
            new ModelFile("model.safetensors", "sha-weights", 1_000_000L), new ModelFile("tokenizer.json", "sha-tokenizer", 2_000L));

    /** The server state file name scripted aggregations report a SHA-256 for. */
    static final String OPTIMIZER_STATE = "optimizer-state.safetensors";

    record Event(EventReason reason, String message) {
    }

    RoundWorld(String runName, int rounds, String... shardNames) {
        run = Fixtures.run(runName, runName, rounds);
        run.getMetadata().setGeneration(1L);
        run.getMetadata().setUid("uid-" + runName);
        status.baseModel = new ArrayList<>(BASE_MODEL);
        for (String n : shardNames) {
            shards.add(Fixtures.shard(n, runName));
        }
        RunEvents recorder = (about, reason, message) -> events.add(new Event(reason, message));
        ShardParticipation participation = new ShardParticipation() {
            @Override
            public void trained(String namespace, String shard, String run, int round, TrainResult result) {
                shardWrites.add(shard + " trained r" + round);
            }

            @Override
            public void failed(String namespace, String shard, String run, int round) {
                shardWrites.add(shard + " failed r" + round);
            }
        };
        actions = new RoundActions(pods, recorder, new RunMetrics(registry), new TrainerPodBuilder("trainer:test", Fixtures.signers(clock)),
                new AggregationPodBuilder("trainer:test"), participation, (resource, old) -> violations);
        steps = new RoundSteps(actions);
    }

    /** A run not prepared yet (a new world starts prepared: status.baseModel recorded, round 1 next). */
    RoundWorld unprepared() {
        status.baseModel = null;
        return this;
    }

    /** One reconcile, as the reconciler runs it; returns what the step concluded. */
    RunSnapshot reconcile() {
        FederatedRunStatus copy = ContractJson.mapper().convertValue(status, FederatedRunStatus.class);
        RunSnapshot s = new RunSnapshot(run, copy, new ArrayList<>(pods.pods.values()), shards, clock.instant());
        state = steps.reconcile(s);
        status = s.status;
        return s;
    }

    /** A new operator instance: new steps, no memory, the same cluster (status and pods). */
    void restart() {
        steps = new RoundSteps(actions);
    }

    List<EventReason> eventReasons() {
        return events.stream().map(Event::reason).toList();
    }

    double counter(String name, String outcome) {
        var c = registry.find(name).tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    String trainer(int round, String shard, int attempt) {
        return PodNames.trainer(run.getMetadata().getName(), round, shard, attempt);
    }

    String aggregator(int round, int attempt) {
        return PodNames.aggregator(run.getMetadata().getName(), round, attempt);
    }

    void succeedTrainer(int round, String shard, int attempt) {
        succeedTrainer(round, shard, attempt, "cpu", "FP32", "off");
    }

    /** A trainer that reports where it trained and where its base model came from (null: an image that does not say). */
    void succeedTrainer(int round, String shard, int attempt, String device, String precision, String cache) {
        finish(trainer(round, shard, attempt), true, new TrainResult(Outcome.Succeeded, null, null, shard, round,
                "s3://bucket/" + shard + "/r" + round, "sha-" + shard, 8, 100L, 12800L, 2.0, 2.5, 2.1, 0, 1.0, 1000.0, device, precision,
                cache, "Loss", 2.5, 2.1));
    }

    void failTrainer(int round, String shard, int attempt, FailureReason reason) {
        failTrainer(round, shard, attempt, reason, "scripted");
    }

    void failTrainer(int round, String shard, int attempt, FailureReason reason, String message) {
        finish(trainer(round, shard, attempt), false, TrainResult.failed(reason, message));
    }

    void succeedAggregation(int round, int attempt, double loss, Boolean regressed) {
        succeedAggregation(round, attempt, loss, regressed, "cpu", "FP32");
    }

    /** An aggregation whose global evaluation ran on this device and precision (null: none ran). */
    void succeedAggregation(int round, int attempt, double loss, Boolean regressed, String device, String precision) {
        AggregateTask task = task(aggregator(round, attempt));
        List<String> accepted = task.updates().stream().map(u -> u.shard()).toList();
        finish(aggregator(round, attempt), true, new AggregateResult(Outcome.Succeeded, null, null, round, task.output(),
                "sha-global-" + round, accepted, List.of(), loss, Map.of("in-domain", loss), regressed, null, null, 1.0, device,
                precision, Map.of(OPTIMIZER_STATE, "sha-state-" + round), "sha-config-" + round, "Loss", loss,
                Map.of("in-domain", Map.of("Loss", loss))));
    }

    /** An aggregation whose primary set ranks by {@code metric} (e.g. Accuracy, higher is better) and scored {@code score}. */
    void succeedAggregation(int round, int attempt, String metric, double score, double loss) {
        AggregateTask task = task(aggregator(round, attempt));
        List<String> accepted = task.updates().stream().map(u -> u.shard()).toList();
        finish(aggregator(round, attempt), true, new AggregateResult(Outcome.Succeeded, null, null, round, task.output(),
                "sha-global-" + round, accepted, List.of(), loss, Map.of("in-domain", loss), null, null, null, 1.0, "cpu",
                "FP32", Map.of(OPTIMIZER_STATE, "sha-state-" + round), "sha-config-" + round, metric, score,
                Map.of("in-domain", Map.of(metric, score, "Loss", loss))));
    }

    /** A trainer whose local eval data is scored by {@code metric}: the global adapter it started from, then its own. */
    void succeedTrainer(int round, String shard, int attempt, String metric, double before, double after) {
        finish(trainer(round, shard, attempt), true, new TrainResult(Outcome.Succeeded, null, null, shard, round,
                "s3://bucket/" + shard + "/r" + round, "sha-" + shard, 8, 100L, 12800L, 2.0, 2.5, 2.1, 0, 1.0, 1000.0, "cpu", "FP32",
                "off", metric, before, after));
    }

    /** A whole round as {@link #runRound(double)}, its aggregate scored {@code score} in {@code metric} (loss 2.0). */
    void runRound(String metric, double score) {
        reconcile();
        int round = status.currentRound;
        reconcile();
        status.roundShards.forEach(shard -> succeedTrainer(round, shard, 1));
        reconcile();
        succeedAggregation(round, 1, metric, score, 2.0);
        reconcile();
    }

    /** The round's first aggregation attempt ends with this result. */
    void finishAggregation(int round, AggregateResult result) {
        finish(aggregator(round, 1), true, result);
    }

    void failAggregation(int round, int attempt, FailureReason reason) {
        failAggregation(round, attempt, reason, "scripted");
    }

    void failAggregation(int round, int attempt, FailureReason reason, String message) {
        finish(aggregator(round, attempt), false, AggregateResult.failed(reason, message));
    }

    String preparer(int attempt) {
        return PodNames.preparer(run.getMetadata().getName(), attempt);
    }

    String publisher(int round, int attempt) {
        return PodNames.publisher(run.getMetadata().getName(), round, attempt);
    }

    void succeedPreparation(int attempt) {
        finish(preparer(attempt), true, new PrepareResult(Outcome.Succeeded, null, null, BASE_MODEL, 1.0, "off"));
    }

    void failPreparation(int attempt, FailureReason reason, String message) {
        finish(preparer(attempt), false, PrepareResult.failed(reason, message));
    }

    /** A publishing pod that copied the adapter faithfully: the hashes it reports are the ones its task recorded. */
    void succeedPublishing(int round, int attempt) {
        succeedPublishing(round, attempt, publishTask(publisher(round, attempt)).sourceSha256().get("adapter_model.safetensors"));
    }

    /** A publishing pod that reports this SHA-256 for the adapter_model.safetensors it published. */
    void succeedPublishing(int round, int attempt, String sha256) {
        PublishTask task = publishTask(publisher(round, attempt));
        Map<String, String> files = new LinkedHashMap<>(task.sourceSha256());
        files.put("manifest.json", "sha-manifest-" + round);
        finish(publisher(round, attempt), true, new PublishResult(Outcome.Succeeded, null, null, task.destination(), sha256,
                files, 1.0));
    }

    void failPublishing(int round, int attempt, FailureReason reason, String message) {
        finish(publisher(round, attempt), false, PublishResult.failed(reason, message));
    }

    /** After the last round is recorded: the publishing pod starts, succeeds, and the run finishes. */
    void publish() {
        reconcile();
        succeedPublishing(status.bestAdapter.round, 1);
        reconcile();
    }

    PrepareTask prepareTask(String podName) {
        return ServerTaskPodBuilder.taskOf(pod(podName), PrepareTask.class).orElseThrow();
    }

    PublishTask publishTask(String podName) {
        return ServerTaskPodBuilder.taskOf(pod(podName), PublishTask.class).orElseThrow();
    }

    /** The task a trainer pod was started with, from its environment. */
    io.fedtune.api.contract.TrainTask trainTask(String trainerPod) {
        return ContractJson.read(pod(trainerPod).getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> TrainerEnv.TASK.equals(e.getName())).findFirst().orElseThrow().getValue(),
                io.fedtune.api.contract.TrainTask.class);
    }

    /** The kubelet took the pod and cannot start its container: Pending, waiting with this reason. */
    void waiting(String podName, String reason, String message) {
        PodStatus status = new PodStatus();
        status.setPhase("Pending");
        status.setStartTime(pod(podName).getMetadata().getCreationTimestamp());
        status.setContainerStatuses(List.of(new ContainerStatusBuilder().withName("c").withState(new ContainerStateBuilder()
                .withNewWaiting().withReason(reason).withMessage(message).endWaiting().build()).build()));
        pod(podName).setStatus(status);
    }

    /** The scheduler found no node for the pod: Pending, PodScheduled=False reason Unschedulable. */
    void unschedulable(String podName, String message) {
        PodStatus status = new PodStatus();
        status.setPhase("Pending");
        status.setConditions(List.of(new io.fabric8.kubernetes.api.model.PodConditionBuilder().withType("PodScheduled")
                .withStatus("False").withReason("Unschedulable").withMessage(message).build()));
        pod(podName).setStatus(status);
    }

    Pod pod(String podName) {
        Pod pod = pods.pods.get(podName);
        if (pod == null) {
            throw new AssertionError("no pod " + podName + "; pods: " + pods.pods.keySet());
        }
        return pod;
    }

    AggregateTask task(String aggregationPod) {
        return ContractJson.read(pods.configMaps.get(aggregationPod).getData().get(TrainerEnv.TASK_FILE_NAME), AggregateTask.class);
    }

    /** Runs a whole round the happy way from BetweenRounds: every selected shard trains, the aggregation succeeds. */
    void runRound(double loss) {
        reconcile();
        int round = status.currentRound;
        reconcile();
        status.roundShards.forEach(shard -> succeedTrainer(round, shard, 1));
        reconcile();
        succeedAggregation(round, 1, loss, null);
        reconcile();
    }

    private void finish(String podName, boolean ok, Object result) {
        Pod pod = pods.pods.get(podName);
        if (pod == null) {
            throw new AssertionError("no pod " + podName + "; pods: " + pods.pods.keySet());
        }
        PodStatus status = new PodStatus();
        status.setPhase(ok ? "Succeeded" : "Failed");
        status.setContainerStatuses(List.of(new ContainerStatusBuilder().withName("c").withState(new ContainerStateBuilder()
                .withNewTerminated().withExitCode(ok ? 0 : 1).withMessage(ContractJson.write(result))
                .withFinishedAt(clock.instant().toString()).endTerminated().build()).build()));
        pod.setStatus(status);
    }

    /** A clock the test moves. */
    static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    /** RunPods in memory: idempotent creates and deletes, as the API server makes them; a create can be refused. */
    final class FakePods implements RunPods {
        final Map<String, Pod> pods = new LinkedHashMap<>();
        final Map<String, ConfigMap> configMaps = new LinkedHashMap<>();
        final List<String> created = new ArrayList<>();
        final List<String> deleted = new ArrayList<>();
        Supplier<RuntimeException> refuseCreate;

        @Override
        public void create(Pod pod) {
            if (refuseCreate != null) {
                throw refuseCreate.get();
            }
            if (pods.putIfAbsent(pod.getMetadata().getName(), stamped(pod)) == null) {
                created.add(pod.getMetadata().getName());
            }
        }

        @Override
        public void create(ConfigMap configMap) {
            if (refuseCreate != null) {
                throw refuseCreate.get();
            }
            configMaps.putIfAbsent(configMap.getMetadata().getName(), stamped(configMap));
        }

        @Override
        public java.util.Optional<ConfigMap> configMap(String namespace, String name) {
            return java.util.Optional.ofNullable(configMaps.get(name));
        }

        @Override
        public void delete(Pod pod) {
            AggregationPodBuilder.taskConfigMap(pod).ifPresent(configMaps::remove);
            if (pods.remove(pod.getMetadata().getName()) != null) {
                deleted.add(pod.getMetadata().getName());
            }
        }

        @Override
        public void deleteAllOf(String namespace, String runName) {
            List.copyOf(pods.values()).stream().filter(p -> runName.equals(p.getMetadata().getLabels().get(PodLabels.RUN)))
                    .forEach(this::delete);
        }

        private <T extends HasMetadata> T stamped(T object) {
            object.getMetadata().setCreationTimestamp(clock.instant().toString());
            return object;
        }
    }
}
