package io.fedtune.operator.validation;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;

/** Valid resources to start from, and edits of their fields by path (spec.lora.rank, spec.evaluation.datasets[1].name). */
final class Resources {
    static final String RUN = """
            apiVersion: fedtune.io/v1alpha1
            kind: FederatedRun
            metadata:
              name: run
            spec:
              baseModel:
                uri: s3://fedtune-models/base/
              rounds: 5
              lora:
                rank: 8
                targetModules: [q_proj, v_proj]
              training:
                steps: 10
                learningRate: 0.001
              participation:
                fraction: 0.5
                minShards: 1
                maxShardsPerRound: 3
                roundTimeout: 10m
              evaluation:
                datasets:
                  - name: in-domain
                    uri: s3://fedtune-runs/eval/in-domain.jsonl
                  - name: out-of-domain
                    uri: s3://fedtune-runs/eval/ood.jsonl
                    format: Text
              storage:
                endpoint: http://127.0.0.1:9000
                bucket: fedtune-runs
                credentialsSecret:
                  name: run-storage
              trainer:
                resources:
                  limits:
                    nvidia.com/gpu: 1
                    memory: 16Gi
            """;

    static final String SHARD = """
            apiVersion: fedtune.io/v1alpha1
            kind: ClientShard
            metadata:
              name: shard-a
            spec:
              weight: 2
              data:
                endpoint: http://127.0.0.1:9000
                credentialsSecret:
                  name: shard-a-data
                train:
                  uri: s3://shard-a/train.jsonl
                  format: Chat
            """;

    private Resources() {
    }

    static GenericKubernetesResource parse(String yaml) {
        return Serialization.unmarshal(yaml, GenericKubernetesResource.class);
    }

    static GenericKubernetesResource run() {
        return parse(RUN);
    }

    static GenericKubernetesResource shard() {
        return parse(SHARD);
    }

    /** Sets the field at path, creating objects on the way; a value of null removes the field. */
    @SuppressWarnings("unchecked")
    static GenericKubernetesResource set(GenericKubernetesResource resource, String path, Object value) {
        String[] steps = path.split("\\.");
        Object node = resource.getAdditionalProperties();
        for (int i = 0; i < steps.length - 1; i++) {
            node = child(node, steps[i], true);
        }
        String last = steps[steps.length - 1];
        if (value instanceof Map<?, ?> map) {
            value = new java.util.LinkedHashMap<>(map);
        }
        if (last.endsWith("]")) {
            List<Object> list = (List<Object>) child(node, last.substring(0, last.indexOf('[')), false);
            list.set(index(last), value);
        } else if (value == null) {
            ((Map<String, Object>) node).remove(last);
        } else {
            ((Map<String, Object>) node).put(last, value);
        }
        return resource;
    }

    @SuppressWarnings("unchecked")
    private static Object child(Object node, String step, boolean create) {
        if (step.endsWith("]")) {
            List<Object> list = (List<Object>) ((Map<String, Object>) node).get(step.substring(0, step.indexOf('[')));
            return list.get(index(step));
        }
        Map<String, Object> map = (Map<String, Object>) node;
        if (create && !map.containsKey(step)) {
            map.put(step, new java.util.LinkedHashMap<String, Object>());
        }
        return map.get(step);
    }

    private static int index(String step) {
        return Integer.parseInt(step.substring(step.indexOf('[') + 1, step.length() - 1));
    }
}
