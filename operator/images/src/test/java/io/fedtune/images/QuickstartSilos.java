package io.fedtune.images;

import io.fedtune.operator.signing.StorageSigners;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The quickstart's resources (examples/quickstart), each data owner's silo and the run's storage as s3proxy servers on
 * free ports (the manifests' fixed 9000-9003 are rewritten), seeded with the shipped base model, the eval sets and
 * each shard's training data. Credentials are the examples' Secrets: every silo checks its own.
 */
final class QuickstartSilos implements AutoCloseable {
    static final String NAMESPACE = "images-it";
    private static final KubernetesSerialization YAML = new KubernetesSerialization();

    final FederatedRun run;
    final List<ClientShard> shards;
    final List<Secret> secrets;
    final S3Silo runStorage;
    /** A signer for the run storage, as the chart mounts one into the operator: the trainer pods' URLs are signed with it. */
    StorageSigners signers;
    final Map<String, S3Silo> shardSilos = new java.util.LinkedHashMap<>();

    private QuickstartSilos(FederatedRun run, List<ClientShard> shards, List<Secret> secrets, S3Silo runStorage) {
        this.run = run;
        this.shards = shards;
        this.secrets = secrets;
        this.runStorage = runStorage;
    }

    /** Starts the run's storage and the silos of the first {@code shardCount} shards. */
    static QuickstartSilos start(Path work, int shardCount) throws Exception {
        Path quickstart = Images.ROOT.resolve("examples/quickstart");
        FederatedRun run = documents(quickstart.resolve("run.yaml"), FederatedRun.class).get(0);
        List<ClientShard> shards = documents(quickstart.resolve("shards.yaml"), ClientShard.class).subList(0, shardCount);
        List<Secret> secrets = documents(quickstart.resolve("secrets.yaml"), Secret.class);
        run.getMetadata().setNamespace(NAMESPACE);
        run.getMetadata().setUid(UUID.randomUUID().toString());
        shards.forEach(s -> s.getMetadata().setNamespace(NAMESPACE));

        Secret storageSecret = secret(secrets, run.getSpec().storage.credentialsSecret.name);
        S3Silo storage = S3Silo.start(work.resolve("s3/run"), storageSecret.getStringData().get("accessKeyId"),
                storageSecret.getStringData().get("secretAccessKey"));
        QuickstartSilos silos = new QuickstartSilos(run, shards, secrets, storage);
        try {
            run.getSpec().storage.endpoint = storage.endpoint();
            Path signer = java.nio.file.Files.createDirectories(work.resolve("signer"));
            java.nio.file.Files.writeString(signer.resolve("access-key-id"), storageSecret.getStringData().get("accessKeyId"));
            java.nio.file.Files.writeString(signer.resolve("secret-access-key"), storageSecret.getStringData().get("secretAccessKey"));
            silos.signers = StorageSigners.of(List.of(new StorageSigners.Signer(storage.endpoint(), run.getSpec().storage.region,
                    signer.toString())), java.time.Clock.systemUTC());
            String model = run.getSpec().baseModel.uri.replaceFirst("^s3://", "");
            for (String f : Preparation.FILES) {
                storage.upload(bucket(model), join(key(model), f), Preparation.BASE_MODEL.resolve(f));
            }
            Path data = quickstart.resolve("data");
            for (var eval : run.getSpec().evaluation.datasets) {
                String uri = eval.uri.replaceFirst("^s3://", "");
                storage.upload(bucket(uri), key(uri), data.resolve(uri));
            }
            for (ClientShard shard : shards) {
                Secret s = secret(secrets, shard.getSpec().data.credentialsSecret.name);
                S3Silo silo = S3Silo.start(work.resolve("s3/" + shard.getMetadata().getName()),
                        s.getStringData().get("accessKeyId"), s.getStringData().get("secretAccessKey"));
                silos.shardSilos.put(shard.getMetadata().getName(), silo);
                shard.getSpec().data.endpoint = silo.endpoint();
                String uri = shard.getSpec().data.train.uri.replaceFirst("^s3://", "");
                silo.upload(bucket(uri), key(uri), data.resolve(uri));
            }
            return silos;
        } catch (Exception e) {
            silos.close();
            throw e;
        }
    }

    static <T> List<T> documents(Path file, Class<T> type) throws IOException {
        List<T> out = new ArrayList<>();
        for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
            if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
                out.add(YAML.unmarshal(doc, type));
            }
        }
        return out;
    }

    private static Secret secret(List<Secret> secrets, String name) {
        return secrets.stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no Secret " + name + " in examples/quickstart/secrets.yaml"));
    }

    private static String bucket(String path) {
        return path.substring(0, path.indexOf('/'));
    }

    private static String key(String path) {
        return path.substring(path.indexOf('/') + 1);
    }

    private static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix.replaceAll("/+$", "") + "/" + name;
    }

    @Override
    public void close() {
        shardSilos.values().forEach(S3Silo::close);
        runStorage.close();
    }
}
