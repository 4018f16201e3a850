package io.fedtune.operator;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.operator.pods.PodLabels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * Plays the kubelet for the operator's pods: moves each new pod to Running, then to Succeeded or Failed with a
 * termination message per trainer-image/CONTRACT.md (a TrainResult, AggregateResult, PrepareResult or PublishResult as JSON). Scripted per run:
 * fail a shard's first attempts, hang a shard, refuse an update, fail aggregation, give eval losses per round, or
 * hold pods in Running until released. Results depend only on round, shard and accepted updates, never on the
 * run's name, so two runs of the same spec can be compared.
 */
public final class FakeKubelet implements AutoCloseable {
    private final KubernetesClient client;
    private final SharedIndexInformer<Pod> informer;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "fake-kubelet"));
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final List<String> created = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Script> scripts = new ConcurrentHashMap<>();
    private final Map<String, Pod> held = new ConcurrentHashMap<>();
    private final Map<String, String> tasks = new ConcurrentHashMap<>();

    /** What to do with one run's pods. */
    public static final class Script {
        final Map<String, Integer> failTrainerAttempts = new ConcurrentHashMap<>();
        final Set<String> hangTrainers = ConcurrentHashMap.newKeySet();
        final Set<String> refuse = ConcurrentHashMap.newKeySet();
        final Set<String> unpullable = ConcurrentHashMap.newKeySet();
        final Map<Integer, Double> evalLoss = new ConcurrentHashMap<>();
        final Map<Integer, Double> evalScore = new ConcurrentHashMap<>();
        volatile String evalMetric = "Loss";
        volatile int failAggregatorAttempts;
        volatile String trainerFailureReason = "StorageUnreachable";
        volatile Predicate<Pod> hold = p -> false;

        /** The shard's first {@code attempts} trainer attempts fail, in every round. */
        public Script failTrainer(String shard, int attempts) {
            failTrainerAttempts.put(shard, attempts);
            return this;
        }

        public Script failTrainerWith(String reason) {
            trainerFailureReason = reason;
            return this;
        }

        /** Pods with this image stay Pending, their container waiting in ImagePullBackOff, as a kubelet leaves them. */
        public Script cannotPull(String image) {
            unpullable.add(image);
            return this;
        }

        /** The same for pods of one role only (the preparation and the aggregation share spec.aggregator's image). */
        public Script cannotPull(String image, String role) {
            unpullable.add(role + "/" + image);
            return this;
        }

        public Script hangTrainer(String shard) {
            hangTrainers.add(shard);
            return this;
        }

        public Script refuse(String shard) {
            refuse.add(shard);
            return this;
        }

        public Script failAggregator(int attempts) {
            failAggregatorAttempts = attempts;
            return this;
        }

        public Script evalLosses(double... losses) {
            for (int i = 0; i < losses.length; i++) {
                evalLoss.put(i + 1, losses[i]);
            }
            return this;
        }

        /**
         * The aggregation's primary score per round in this metric (e.g. Accuracy: higher is better); its loss stays
         * what {@link #evalLosses} scripts.
         */
        public Script evalScores(String metric, double... scores) {
            evalMetric = metric;
            for (int i = 0; i < scores.length; i++) {
                evalScore.put(i + 1, scores[i]);
            }
            return this;
        }

        public Script hold(Predicate<Pod> pods) {
            hold = pods;
            return this;
        }
    }

    public FakeKubelet(KubernetesClient client) {
        this.client = client;
        this.informer = client.pods().inAnyNamespace().withLabel(PodLabels.MANAGED_BY, PodLabels.OPERATOR)
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        if (seen.add(pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName() + "/" + pod.getMetadata().getUid())) {
                            created.add(pod.getMetadata().getName());
                            worker.submit(() -> start(pod));
                        }
                    }

                    @Override
                    public void onUpdate(Pod oldPod, Pod newPod) {
                    }

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {
                        held.remove(key(pod));
                    }
                });
    }

    public Script script(String run) {
        return scripts.computeIfAbsent(run, r -> new Script());
    }

    /** Names of every pod the operator created, in order, including deleted ones. */
    public List<String> createdPods() {
        synchronized (created) {
            return List.copyOf(created);
        }
    }

    /** The task a pod was started with (FEDTUNE_TASK, or the file of FEDTUNE_TASK_FILE), once it has finished. */
    public String task(String pod) {
        return tasks.get(pod);
    }

    /** Lets held pods of the run finish as scripted, and stops holding new ones. */
    public void release(String run) {
        script(run).hold = p -> false;
        held.values().stream().filter(p -> run.equals(runOf(p)))
                .toList().forEach(p -> {
                    held.remove(key(p));
                    worker.submit(() -> finish(p));
                });
    }

    /** FEDTUNE_TASK, or the file FEDTUNE_TASK_FILE names: read from the ConfigMap mounted there, as a kubelet would. */
    private String taskOf(Pod pod) {
        var env = pod.getSpec().getContainers().get(0).getEnv();
        var inline = env.stream().filter(e -> TrainerEnv.TASK.equals(e.getName())).findFirst();
        if (inline.isPresent()) {
            return inline.get().getValue();
        }
        String file = env.stream().filter(e -> TrainerEnv.TASK_FILE.equals(e.getName())).findFirst().orElseThrow().getValue();
        var mount = pod.getSpec().getContainers().get(0).getVolumeMounts().stream().filter(m -> file.startsWith(m.getMountPath() + "/"))
                .findFirst().orElseThrow();
        var volume = pod.getSpec().getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
        var configMap = client.configMaps().inNamespace(pod.getMetadata().getNamespace()).withName(volume.getConfigMap().getName()).get();
        return configMap.getData().get(file.substring(mount.getMountPath().length() + 1));
    }

    private void start(Pod pod) {
        String run = runOf(pod);
        Script script = script(run);
        Instant now = Instant.now();
        String image = pod.getSpec().getContainers().get(0).getImage();
        if (script.unpullable.contains(image) || script.unpullable.contains(role(pod) + "/" + image)) {
            update(pod, p -> {
                p.getStatus().setPhase("Pending");
                p.getStatus().setStartTime(now.toString());
                p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName(container(p)).withReady(false)
                        .withState(new ContainerStateBuilder().withNewWaiting().withReason("ImagePullBackOff")
                                .withMessage("Back-off pulling image \"" + p.getSpec().getContainers().get(0).getImage() + "\"").endWaiting().build()).build()));
            });
            return;
        }
        update(pod, p -> {
            p.getStatus().setPhase("Running");
            p.getStatus().setStartTime(now.toString());
            p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName(container(p)).withReady(true)
                    .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(now.toString()).endRunning().build()).build()));
        });
        boolean hang = isTrainer(pod) && script.hangTrainers.contains(PodLabels.shard(pod));
        if (hang) {
            return;
        }
        if (script.hold.test(pod)) {
            held.put(key(pod), pod);
            return;
        }
        finish(pod);
    }

    private void finish(Pod pod) {
        tasks.computeIfAbsent(pod.getMetadata().getName(), n -> taskOf(pod));
        String run = runOf(pod);
        Script script = script(run);
        int attempt = Integer.parseInt(pod.getMetadata().getLabels().get(PodLabels.ATTEMPT));
        String task = tasks.get(pod.getMetadata().getName());
        Object result;
        if (isTrainer(pod)) {
            TrainTask t = ContractJson.read(task, TrainTask.class);
            if (attempt <= script.failTrainerAttempts.getOrDefault(t.shard(), 0)) {
                result = TrainResult.failed(FailureReason.valueOf(script.trainerFailureReason), "scripted failure of attempt " + attempt);
            } else {
                long samples = 100 + Math.abs(t.shard().hashCode() % 50);
                result = new TrainResult(Outcome.Succeeded, null, null, t.shard(), t.round(), t.output(),
                        sha(t.shard() + "/" + t.round()), t.lora().rank, samples, samples * 128, 2.0 / t.round(), 2.5 / t.round(),
                        2.1 / t.round(), 0, 0.01, 1000.0, "cpu", "FP32", "off", "Loss", 2.5 / t.round(), 2.1 / t.round());
            }
        } else if (PodLabels.ROLE_PREPARER.equals(role(pod))) {
            PrepareTask t = ContractJson.read(task, PrepareTask.class);
            result = new PrepareResult(Outcome.Succeeded, null, null, List.of(
                    new ModelFile("config.json", sha(t.baseModel() + "/config.json"), 600L),
                    new ModelFile("model.safetensors", t.baseModelSha256() != null ? t.baseModelSha256()
                            : sha(t.baseModel() + "/model.safetensors"), 1_000_000L),
                    new ModelFile("tokenizer.json", sha(t.baseModel() + "/tokenizer.json"), 2_000L)), 0.01, "off");
        } else if (PodLabels.ROLE_PUBLISHER.equals(role(pod))) {
            PublishTask t = ContractJson.read(task, PublishTask.class);
            Map<String, String> files = new java.util.LinkedHashMap<>(t.sourceSha256());
            files.put("manifest.json", sha(t.destination() + "/manifest.json"));
            result = new PublishResult(Outcome.Succeeded, null, null, t.destination(), t.sourceSha256().get("adapter_model.safetensors"),
                    files, 0.01);
        } else {
            AggregateTask t = ContractJson.read(task, AggregateTask.class);
            if (attempt <= script.failAggregatorAttempts) {
                result = AggregateResult.failed(FailureReason.StorageUnreachable, "scripted aggregation failure " + attempt);
            } else {
                List<String> accepted = t.updates().stream().map(ShardUpdate::shard).filter(s -> !script.refuse.contains(s)).toList();
                List<Refusal> refused = t.updates().stream().map(ShardUpdate::shard).filter(script.refuse::contains)
                        .map(s -> new Refusal(s, "NormOutlier", "update norm far above the round's median")).toList();
                double loss = script.evalLoss.getOrDefault(t.round(), 3.0 / t.round());
                String metric = script.evalMetric;
                double score = "Loss".equals(metric) ? loss : script.evalScore.getOrDefault(t.round(), 0.1 * t.round());
                result = new AggregateResult(Outcome.Succeeded, null, null, t.round(), t.output(),
                        sha(t.round() + "/" + accepted), accepted, refused, loss, Map.of("in-domain", loss), null, null,
                        t.aggregation().privacy != null ? 0.5 * t.round() : null, 0.02, "cpu", "FP32", null,
                        sha("config/" + t.round()), metric, score, Map.of("in-domain", "Loss".equals(metric) ? Map.of("Loss", loss)
                                : Map.of(metric, score, "Loss", loss)));
            }
        }
        String message = ContractJson.write(result);
        boolean ok = message.contains("\"outcome\":\"Succeeded\"");
        Instant now = Instant.now();
        update(pod, p -> {
            p.getStatus().setPhase(ok ? "Succeeded" : "Failed");
            p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName(container(p)).withReady(false)
                    .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(ok ? 0 : 1)
                            .withReason(ok ? "Completed" : "Error").withMessage(message)
                            .withStartedAt(now.toString()).withFinishedAt(now.toString()).endTerminated().build()).build()));
        });
    }

    private void update(Pod pod, java.util.function.Consumer<Pod> change) {
        try {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).editStatus(p -> {
                if (p.getStatus() == null) {
                    p.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
                }
                change.accept(p);
                return p;
            });
        } catch (KubernetesClientException e) {
            // the operator deleted the pod meanwhile: nothing left to report on
        }
    }

    /** The run's full name, from the owner reference (the label may be cut to 63 characters). */
    private static String runOf(Pod pod) {
        return pod.getMetadata().getOwnerReferences().get(0).getName();
    }

    private static boolean isTrainer(Pod pod) {
        return PodLabels.ROLE_TRAINER.equals(role(pod));
    }

    private static String role(Pod pod) {
        return pod.getMetadata().getLabels().get(PodLabels.ROLE);
    }

    private static String container(Pod pod) {
        return pod.getSpec().getContainers().get(0).getName();
    }

    private static String key(Pod pod) {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    static String sha(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        informer.close();
        worker.shutdownNow();
    }
}
