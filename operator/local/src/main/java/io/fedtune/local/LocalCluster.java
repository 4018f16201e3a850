package io.fedtune.local;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.operator.validation.ResourceValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Everything a federated run needs on one machine, started in order: S3 silos (seeded with the base model and each
 * shard's data), the in-process Kubernetes API, the local pod runner and the operator process, restarted whenever it
 * exits (see {@link OperatorDeployment}). Closing it stops all;
 * the objects stay on disk under the work folder.
 */
public final class LocalCluster implements AutoCloseable {
    private static final Duration SHARD_SEEN_TIMEOUT = Duration.ofSeconds(120);
    /** The image local mode's operator gives trainer pods; the pod runner runs it as the trainer jar. */
    public static final String TRAINER_IMAGE = "ghcr.io/fedtune/fedtune-trainer:0.1.0-SNAPSHOT";
    private static final Duration OPERATOR_FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration OPERATOR_MAX_BACKOFF = Duration.ofSeconds(30);

    private final RepoLayout layout;
    private final Path workDir;
    private final List<S3Silo> silos = new ArrayList<>();
    private EmbeddedApiServer api;
    private LocalPodRunner pods;
    private final Consumer<String> events;
    private OperatorDeployment operator;
    private String signers = "[]";

    private LocalCluster(RepoLayout layout, Path workDir, Consumer<String> events) {
        this.layout = layout;
        this.workDir = workDir;
        this.events = events;
    }

    /**
     * Validates the manifests, then starts the parts and seeds storage. Nothing starts when a manifest is invalid.
     *
     * @param dataDir   local mirror of the objects the manifests reference: dataDir/bucket/key
     * @param baseModel local folder uploaded to every run's spec.baseModel.uri
     * @param podSlots  how many pods run at once
     */
    public static LocalCluster start(RepoLayout layout, Manifests manifests, ResourceValidator validator, Path dataDir,
                                     Path baseModel, Path workDir, int podSlots) throws Exception {
        return start(layout, manifests, validator, dataDir, baseModel, workDir, podSlots, System.out::println);
    }

    /** @param events where lines about the cluster's own parts go, such as an operator restart */
    public static LocalCluster start(RepoLayout layout, Manifests manifests, ResourceValidator validator, Path dataDir,
                                     Path baseModel, Path workDir, int podSlots, Consumer<String> events) throws Exception {
        refuseInvalid(manifests, validator);
        LocalCluster cluster = new LocalCluster(layout, Files.createDirectories(workDir), events);
        try {
            cluster.startSilos(manifests, dataDir, baseModel);
            cluster.signers = SiloSigners.write(manifests, cluster.silos, workDir.resolve("signers"));
            cluster.api = EmbeddedApiServer.start(layout.crds(), layout.chart(), OperatorProcess.freePort());
            TrainerJarCommand trainer = new TrainerJarCommand(layout.trainerJar(), workDir.resolve("djl-cache"));
            trainer.warmCache(baseModel);
            Path podsDir = Files.createDirectories(workDir.resolve("pods"));
            // pods see this machine read-only, but not each other's volumes, the silos' disks nor the signing keys
            Confinement confinement = Confinement.detect(List.of(podsDir, workDir.resolve("s3"), workDir.resolve("signers")));
            cluster.pods = new LocalPodRunner(cluster.api.client(), trainer, podsDir, podSlots, confinement).start();
            cluster.startOperator();
            return cluster;
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
    }

    /** Checks every fedtune resource against the CRD schema and CEL rules, like an API server would on create. */
    public static void refuseInvalid(Manifests manifests, ResourceValidator validator) throws InvalidManifests {
        List<String> problems = new ArrayList<>();
        for (HasMetadata r : manifests.resources()) {
            if (r.getApiVersion() != null && r.getApiVersion().startsWith("fedtune.io/")) {
                validator.validate(r, null).forEach(v -> problems.add(InvalidManifests.describe(r, v)));
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidManifests(problems);
        }
    }

    private void startSilos(Manifests manifests, Path dataDir, Path baseModel) throws Exception {
        Map<String, Path> overrides = new java.util.HashMap<>();
        manifests.runs().forEach(r -> overrides.put(r.getSpec().baseModel.uri, baseModel));
        ObjectSeeder seeder = new ObjectSeeder(dataDir, overrides);
        int i = 0;
        for (Silo plan : SiloPlan.of(manifests)) {
            Path dir = Files.createDirectories(workDir.resolve("s3").resolve("silo-" + (i++) + "-" + plan.owner().replaceAll("[^a-z0-9-]", "-")));
            S3Silo silo = S3Silo.start(layout.s3proxyJar(), plan.endpoint(), plan.accessKey(), plan.secretKey(), dir);
            silos.add(silo);
            seeder.seed(silo, plan);
        }
    }

    /** Creates the resources in the API, Secrets first, runs last. */
    /**
     * Creates the resources, the runs last, once the operator has seen every ClientShard (it wrote its status): a run
     * created first would start round 1 with the shards the operator happened to know of by then.
     */
    public void apply(Manifests manifests, String namespace) {
        List<HasMetadata> runs = new ArrayList<>();
        List<ClientShard> shards = new ArrayList<>();
        for (HasMetadata r : manifests.resources()) {
            if (r.getMetadata().getNamespace() == null) {
                r.getMetadata().setNamespace(namespace);
            }
            if (r instanceof FederatedRun) {
                runs.add(r);
                continue;
            }
            api.client().resource(r).create();
            if (r instanceof ClientShard shard) {
                shards.add(shard);
            }
        }
        shards.forEach(this::awaitSeenByOperator);
        runs.forEach(r -> api.client().resource(r).create());
    }

    private void awaitSeenByOperator(ClientShard shard) {
        Instant deadline = Instant.now().plus(SHARD_SEEN_TIMEOUT);
        while (true) {
            var seen = api.client().resources(ClientShard.class)
                    .inNamespace(shard.getMetadata().getNamespace()).withName(shard.getMetadata().getName()).get();
            if (seen != null && seen.getStatus() != null && seen.getStatus().observedGeneration != null) {
                return;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("the operator did not pick up ClientShard " + shard.getMetadata().getName()
                        + " within " + SHARD_SEEN_TIMEOUT.toSeconds() + " s; see " + workDir.resolve("operator.log"));
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for ClientShard " + shard.getMetadata().getName(), e);
            }
        }
    }

    /**
     * Starts (or, after {@link #killOperator}, starts again) the operator process, kept running as a Deployment
     * would: restarted, after a backoff, whenever it exits.
     */
    public void startOperator() throws IOException, InterruptedException {
        operator = OperatorDeployment.start(() -> OperatorProcess.start(layout.operatorJar(), api.url(), TRAINER_IMAGE, signers,
                workDir.resolve("operator.log")), events, OPERATOR_FIRST_BACKOFF, OPERATOR_MAX_BACKOFF);
    }

    /** Kills the operator at once, mid-whatever it was doing, and does not restart it. */
    public void killOperator() throws InterruptedException {
        operator.kill();
        operator = null;
    }

    /** The operator as local mode keeps it running: its current process, its restarts. */
    public OperatorDeployment operator() {
        return operator;
    }

    /** Kills the s3proxy serving an endpoint (SIGKILL), as a crash of that silo would; {@link #startSilo} brings it back. */
    public void stopSilo(String endpoint) throws InterruptedException {
        silo(endpoint).kill();
    }

    /** Starts a {@link #stopSilo stopped} silo again on the same port, identity and folder: its objects are as they were. */
    public S3Silo startSilo(String endpoint) throws IOException, InterruptedException {
        S3Silo old = silo(endpoint);
        if (old.isAlive()) {
            throw new IllegalStateException("the silo at " + endpoint + " is running");
        }
        S3Silo silo = S3Silo.start(layout.s3proxyJar(), endpoint, old.accessKey(), old.secretKey(), old.dataDir().getParent());
        silos.set(silos.indexOf(old), silo);
        return silo;
    }

    /** Freezes the s3proxy serving an endpoint (SIGSTOP): requests hang rather than fail. */
    public void pauseSilo(String endpoint) throws IOException, InterruptedException {
        silo(endpoint).pause();
    }

    /** Lets a {@link #pauseSilo paused} silo answer again (SIGCONT). */
    public void resumeSilo(String endpoint) throws IOException, InterruptedException {
        silo(endpoint).resume();
    }

    public KubernetesClient client() {
        return api.client();
    }

    public EmbeddedApiServer api() {
        return api;
    }

    public LocalPodRunner pods() {
        return pods;
    }

    public List<S3Silo> silos() {
        return silos;
    }

    /** The silo serving an endpoint. */
    public S3Silo silo(String endpoint) {
        return silos.stream().filter(s -> s.endpoint().equals(endpoint)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no silo at " + endpoint));
    }

    public Path workDir() {
        return workDir;
    }

    @Override
    public void close() {
        if (operator != null) {
            operator.close();
        }
        if (pods != null) {
            pods.close();
        }
        if (api != null) {
            api.close();
        }
        silos.forEach(S3Silo::close);
    }
}
