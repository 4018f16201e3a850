package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The labels and annotations on every pod the operator creates, and the one place they are read back: the round life
 * cycle is derived from them (with status), so a restarted operator sees what the last one did. Names in label
 * values go through {@link #value}; a trainer pod also carries its full shard name in the {@link #SHARD} annotation.
 */
public final class PodLabels {
    public static final String RUN = "fedtune.io/run";
    public static final String ROUND = "fedtune.io/round";
    public static final String SHARD = "fedtune.io/shard";
    public static final String ROLE = "fedtune.io/role";
    public static final String ATTEMPT = "fedtune.io/attempt";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String OPERATOR = "fedtune-operator";

    public static final String ROLE_TRAINER = "trainer";
    public static final String ROLE_AGGREGATOR = "aggregator";
    /** The run's preparation pod (no round label: it runs before round 1). */
    public static final String ROLE_PREPARER = "preparer";
    /** The pod publishing the best adapter; its round label is the round that wrote it. */
    public static final String ROLE_PUBLISHER = "publisher";

    /** On aggregation pods: the round's selected shards that did not deliver (failed for good, or cut as stragglers). */
    public static final String FAILED_SHARDS = "fedtune.io/failed-shards";
    public static final String STRAGGLER_SHARDS = "fedtune.io/straggler-shards";
    /** On aggregation pods: JSON, failed shard to "Reason: message" of its last attempt (the first ten failed shards). */
    public static final String FAILED_WHY = "fedtune.io/failed-why";

    private PodLabels() {
    }

    /**
     * A run or shard name as a label value, for writing and for selecting: the name itself when it fits in 63 characters,
     * else its head and a hash of the whole name, as pod names are cut (names are DNS subdomains of up to 253
     * characters, so nothing else can make one an invalid value). Read names back with {@link #shard}, never from
     * the label.
     */
    public static String value(String name) {
        return PodNames.fit(name);
    }

    /** The pod's round, or null on a pod without one. */
    public static Integer round(Pod pod) {
        try {
            String round = label(pod, ROUND);
            return round == null ? null : Integer.valueOf(round);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The pod's attempt; 1 when unlabelled. */
    public static int attempt(Pod pod) {
        try {
            String attempt = label(pod, ATTEMPT);
            return attempt == null ? 1 : Integer.parseInt(attempt);
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** The full shard name of a trainer pod: its annotation (the label may be cut), or the label of pods from before it. */
    public static String shard(Pod pod) {
        String annotated = annotation(pod, SHARD);
        return annotated != null ? annotated : label(pod, SHARD);
    }

    public static boolean isAggregator(Pod pod) {
        return ROLE_AGGREGATOR.equals(label(pod, ROLE));
    }

    /** The pod's role label (trainer, aggregator, preparer, publisher), or null. */
    public static String role(Pod pod) {
        return label(pod, ROLE);
    }

    /** Writes the round's cut on an aggregation pod (replacing its annotations). */
    public static void annotateCut(Pod pod, List<String> failed, List<String> stragglers) {
        Map<String, String> annotations = new HashMap<>();
        annotations.put(FAILED_SHARDS, String.join(",", failed));
        annotations.put(STRAGGLER_SHARDS, String.join(",", stragglers));
        pod.getMetadata().setAnnotations(annotations);
    }

    public static List<String> failedShards(Pod pod) {
        return split(annotation(pod, FAILED_SHARDS));
    }

    public static List<String> stragglerShards(Pod pod) {
        return split(annotation(pod, STRAGGLER_SHARDS));
    }

    private static String label(Pod pod, String key) {
        Map<String, String> labels = pod.getMetadata().getLabels();
        return labels == null ? null : labels.get(key);
    }

    private static String annotation(Pod pod, String key) {
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(key);
    }

    private static List<String> split(String value) {
        return value == null || value.isBlank() ? List.of() : List.of(value.split(","));
    }
}
