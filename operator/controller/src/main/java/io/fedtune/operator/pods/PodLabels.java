package io.fedtune.operator.pods;

/** Labels on every pod the operator creates; the round life cycle is read back from them. */
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
}
