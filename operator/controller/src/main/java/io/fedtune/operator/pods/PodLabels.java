package io.fedtune.operator.pods;

/**
 * Labels on every pod the operator creates; the round life cycle is read back from them. Names in label values go through
 * {@link #value}; a trainer pod also carries its full shard name in the {@link #SHARD} annotation.
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

    private PodLabels() {
    }

    /**
     * A run or shard name as a label value, for writing and for selecting: the name itself when it fits in 63 characters,
     * else its head and a hash of the whole name, as pod names are cut (names are DNS subdomains of up to 253
     * characters, so nothing else can make one an invalid value). Read names back with {@link #shardOf}, never from
     * the label.
     */
    public static String value(String name) {
        return PodNames.fit(name);
    }

    /** The full shard name of a trainer pod: its annotation (the label may be cut), or the label of pods from before it. */
    public static String shardOf(io.fabric8.kubernetes.api.model.Pod pod) {
        var annotations = pod.getMetadata().getAnnotations();
        if (annotations != null && annotations.get(SHARD) != null) {
            return annotations.get(SHARD);
        }
        return pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(SHARD);
    }
}
