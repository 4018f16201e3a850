package io.fedtune.local;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.operator.pods.PodLabels;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The smaller quickstart run, one namespace per test, on a {@link LocalCluster} the end-to-end classes share: apply it,
 * act on it while it runs, wait for its end; and what those tests read back (pods, labels, conditions, objects).
 */
final class QuickstartRuns {
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(8);
    static final int ROUNDS = 2;
    /** Where the smaller quickstart's S3 ports go: away from a person's quickstart (9000-9003). */
    static final int PORT_SHIFT = 20000;

    /** What a test does once the run is applied, before waiting for its end. */
    interface During {
        void accept(String namespace) throws Exception;
    }

    private final LocalCluster cluster;
    private final Path quickstart;
    private final int portShift;
    private final boolean taskSets;

    /** Runs with every eval set of the quickstart, its task sets included. */
    QuickstartRuns(LocalCluster cluster, Path quickstart, int portShift) {
        this(cluster, quickstart, portShift, true);
    }

    private QuickstartRuns(LocalCluster cluster, Path quickstart, int portShift, boolean taskSets) {
        this.cluster = cluster;
        this.quickstart = quickstart;
        this.portShift = portShift;
        this.taskSets = taskSets;
    }

    /** Runs with the quickstart's LanguageModeling eval sets only: for tests of faults and trust, not of evaluation. */
    static QuickstartRuns languageModelingOnly(LocalCluster cluster, Path quickstart, int portShift) {
        return new QuickstartRuns(cluster, quickstart, portShift, false);
    }

    /** The smaller quickstart's manifests, as the cluster was started with. */
    Manifests manifests() throws IOException {
        Manifests m = smaller(Manifests.load(quickstart), portShift);
        return taskSets ? m : languageModelingOnly(m);
    }

    /** The manifests with only the LanguageModeling eval sets: the task sets' generation costs every round seconds. */
    static Manifests languageModelingOnly(Manifests m) {
        for (FederatedRun run : m.runs()) {
            run.getSpec().evaluation.datasets.removeIf(d -> d.task != null && d.task != io.fedtune.api.v1alpha1.EvalTask.LanguageModeling);
        }
        return m;
    }

    /** Applies the smaller quickstart in its own namespace, runs an action once it is applied, waits for the end. */
    FederatedRun runToEnd(String namespace, During during) throws Exception {
        return runToEnd(namespace, m -> { }, during);
    }

    /** The same, with the manifests changed first (a shorter backoff, a field a fault needs). */
    FederatedRun runToEnd(String namespace, Consumer<Manifests> change, During during) throws Exception {
        Manifests manifests = manifests();
        change.accept(manifests);
        manifests.resources().forEach(r -> r.getMetadata().setNamespace(namespace));
        cluster.apply(manifests, namespace);
        during.accept(namespace);
        String name = manifests.runs().get(0).getMetadata().getName();
        await().atMost(RUN_TIMEOUT).pollInterval(Duration.ofMillis(500)).until(() -> {
            FederatedRun r = run(namespace, name);
            return r != null && ProgressView.isFinished(r);
        });
        return run(namespace, name);
    }

    FederatedRun run(String namespace, String name) {
        return cluster.client().resources(FederatedRun.class).inNamespace(namespace).withName(name).get();
    }

    /** The first pod of the namespace with a phase that matches, waiting for one up to the run's timeout. */
    Pod awaitPod(String namespace, Predicate<Pod> match) {
        return await().atMost(RUN_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> cluster.client().pods()
                        .inNamespace(namespace).list().getItems().stream()
                        .filter(p -> p.getStatus() != null && p.getStatus().getPhase() != null).filter(match).findFirst(),
                Optional::isPresent).orElseThrow();
    }

    /** The quickstart, made small enough for CI: fewer rounds and steps, S3 on other ports than a person's quickstart. */
    static Manifests smaller(Manifests m) {
        return smaller(m, PORT_SHIFT);
    }

    static Manifests smaller(Manifests m, int portShift) {
        for (FederatedRun run : m.runs()) {
            run.getSpec().rounds = ROUNDS;
            run.getSpec().training.steps = 4;
            run.getSpec().training.epochs = null;
            run.getSpec().training.batchSize = 4;
            run.getSpec().participation.roundTimeout = "5m";
            run.getSpec().participation.retryBackoff = "1s";
            run.getSpec().storage.endpoint = shiftPort(run.getSpec().storage.endpoint, portShift);
        }
        for (ClientShard shard : m.shards()) {
            if (shard.getSpec().data.endpoint != null) {
                shard.getSpec().data.endpoint = shiftPort(shard.getSpec().data.endpoint, portShift);
            }
        }
        return m;
    }

    private static String shiftPort(String endpoint, int shift) {
        URI uri = URI.create(endpoint);
        return uri.getScheme() + "://" + uri.getHost() + ":" + (uri.getPort() + shift);
    }

    static ObjectLayout layoutOf(FederatedRun run) {
        var s = run.getSpec().storage;
        return new ObjectLayout(s.bucket, s.prefix, run.getMetadata().getNamespace(), run.getMetadata().getName());
    }

    static List<String> keys(MinioClient s3, S3Uri prefix) throws Exception {
        List<String> keys = new ArrayList<>();
        for (var item : s3.listObjects(ListObjectsArgs.builder().bucket(prefix.bucket()).prefix(prefix.key()).recursive(true).build())) {
            keys.add(item.get().objectName());
        }
        return keys;
    }

    static String sha256(MinioClient s3, S3Uri uri) throws Exception {
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build())) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
        }
    }

    static String text(MinioClient s3, S3Uri uri) throws Exception {
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(uri.bucket()).object(uri.key()).build())) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** A condition's status ("True", "False"), null when the run has none of that type. */
    static String condition(FederatedRun run, String type) {
        return run.getStatus().conditions.stream().filter(c -> type.equals(c.getType())).map(c -> c.getStatus())
                .findFirst().orElse(null);
    }

    static String label(HasMetadata r, String key) {
        Map<String, String> labels = r.getMetadata().getLabels();
        return labels == null ? null : labels.get(key);
    }

    static boolean isTrainer(Pod p) {
        return PodLabels.ROLE_TRAINER.equals(label(p, PodLabels.ROLE));
    }

    static boolean isAggregator(Pod p) {
        return PodLabels.ROLE_AGGREGATOR.equals(label(p, PodLabels.ROLE));
    }

    static boolean phase(Pod p, String phase) {
        return p.getStatus() != null && phase.equals(p.getStatus().getPhase());
    }

    /** The termination message of a pod's (only) container, null while it has none. */
    static String terminationMessage(Pod p) {
        if (p.getStatus() == null || p.getStatus().getContainerStatuses() == null || p.getStatus().getContainerStatuses().isEmpty()) {
            return null;
        }
        var terminated = p.getStatus().getContainerStatuses().get(0).getState().getTerminated();
        return terminated == null ? null : terminated.getMessage();
    }
}
