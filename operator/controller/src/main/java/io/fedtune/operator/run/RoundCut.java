package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The end of a round's training as written on its aggregation pods: which selected shards did not deliver, and why. */
record RoundCut(List<String> failed, List<String> stragglers) {
    static final String FAILED = "fedtune.io/failed-shards";
    static final String STRAGGLERS = "fedtune.io/straggler-shards";

    static void annotate(Pod pod, List<String> failed, List<String> stragglers) {
        Map<String, String> annotations = new HashMap<>();
        annotations.put(FAILED, String.join(",", failed));
        annotations.put(STRAGGLERS, String.join(",", stragglers));
        pod.getMetadata().setAnnotations(annotations);
    }

    static RoundCut of(Pod pod) {
        Map<String, String> a = pod.getMetadata().getAnnotations() == null ? Map.of() : pod.getMetadata().getAnnotations();
        return new RoundCut(split(a.get(FAILED)), split(a.get(STRAGGLERS)));
    }

    private static List<String> split(String value) {
        return value == null || value.isBlank() ? List.of() : List.of(value.split(","));
    }
}
