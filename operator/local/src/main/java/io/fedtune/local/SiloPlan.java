package io.fedtune.local;

import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.DatasetRef;
import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.SecretKeys;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The S3 silos a set of manifests needs on this machine: the run's storage and each shard's data endpoint, each with
 * the credentials of the Secret that names it. s3proxy serves one identity per endpoint, so two owners with different
 * credentials must use different endpoints, as two data owners would.
 */
public final class SiloPlan {

    private SiloPlan() {
    }

    public static List<Silo> of(Manifests manifests) {
        Map<String, Silo> byEndpoint = new LinkedHashMap<>();
        for (FederatedRun run : manifests.runs()) {
            var storage = run.getSpec().storage;
            Set<String> objects = new LinkedHashSet<>();
            objects.add(run.getSpec().baseModel.uri);
            for (EvalDataset set : run.getSpec().evaluation.datasets) {
                objects.add(set.uri);
            }
            add(byEndpoint, manifests, storage.endpoint, storage.credentialsSecret, "run " + name(run), objects);
        }
        for (ClientShard shard : manifests.shards()) {
            var data = shard.getSpec().data;
            String endpoint = data.endpoint != null ? data.endpoint : runEndpoint(manifests, shard);
            Set<String> objects = new LinkedHashSet<>();
            objects.add(data.train.uri);
            if (data.eval != null) {
                objects.add(data.eval.uri);
            }
            add(byEndpoint, manifests, endpoint, data.credentialsSecret, "shard " + name(shard), objects);
        }
        return new ArrayList<>(byEndpoint.values());
    }

    private static void add(Map<String, Silo> silos, Manifests manifests, String endpoint, SecretKeys secret, String owner,
                            Set<String> objects) {
        URI uri = URI.create(endpoint);
        if (!("127.0.0.1".equals(uri.getHost()) || "localhost".equals(uri.getHost())) || uri.getPort() < 0) {
            throw new IllegalArgumentException(owner + ": endpoint " + endpoint + " must be http://127.0.0.1:PORT in local mode");
        }
        String key = manifests.secretValue(secret.name, secret.accessKeyIdKey);
        String value = manifests.secretValue(secret.name, secret.secretAccessKeyKey);
        Silo existing = silos.get(endpoint);
        if (existing == null) {
            silos.put(endpoint, new Silo(endpoint, key, value, owner, objects));
        } else if (!existing.accessKey().equals(key) || !existing.secretKey().equals(value)) {
            throw new IllegalArgumentException(owner + " and " + existing.owner() + " use " + endpoint
                    + " with different credentials; give each data owner its own endpoint (spec.data.endpoint)");
        } else {
            Set<String> all = new LinkedHashSet<>(existing.objects());
            all.addAll(objects);
            silos.put(endpoint, new Silo(endpoint, key, value, existing.owner(), all));
        }
    }

    private static String runEndpoint(Manifests manifests, ClientShard shard) {
        return manifests.runs().stream().findFirst()
                .map(r -> r.getSpec().storage.endpoint)
                .orElseThrow(() -> new IllegalArgumentException("shard " + name(shard) + " has no spec.data.endpoint and there is no run"));
    }

    private static String name(io.fabric8.kubernetes.api.model.HasMetadata r) {
        return r.getMetadata().getName();
    }

    static List<DatasetRef> datasets(ClientShard shard) {
        List<DatasetRef> refs = new ArrayList<>();
        refs.add(shard.getSpec().data.train);
        if (shard.getSpec().data.eval != null) {
            refs.add(shard.getSpec().data.eval);
        }
        return refs;
    }
}
