package io.fedtune.api.contract;

/**
 * Environment variables of the trainer contract: what the operator sets on trainer and aggregation pods.
 * See trainer-image/CONTRACT.md.
 */
public final class TrainerEnv {
    /** The task as JSON: a {@link TrainTask} for role train, an {@link AggregateTask} for role aggregate. */
    public static final String TASK = "FEDTUNE_TASK";
    /** {@code train} or {@code aggregate}; also the container's first argument. */
    public static final String ROLE = "FEDTUNE_ROLE";
    /** Run's S3 credentials: base model, global adapters, outputs, global eval sets. From the run's Secret. */
    public static final String STORAGE_ACCESS_KEY = "FEDTUNE_STORAGE_ACCESS_KEY_ID";
    public static final String STORAGE_SECRET_KEY = "FEDTUNE_STORAGE_SECRET_ACCESS_KEY";
    /** The shard's own S3 credentials for its data; set on that shard's trainer pod only. */
    public static final String DATA_ACCESS_KEY = "FEDTUNE_DATA_ACCESS_KEY_ID";
    public static final String DATA_SECRET_KEY = "FEDTUNE_DATA_SECRET_ACCESS_KEY";
    /** Writable scratch directory (an emptyDir): model cache and temporary files. */
    public static final String WORK_DIR = "FEDTUNE_WORK_DIR";
    /** Where the JSON termination message goes; the container's terminationMessagePath. */
    public static final String TERMINATION_LOG = "FEDTUNE_TERMINATION_LOG";

    public static final String DEFAULT_WORK_DIR = "/scratch";
    public static final String DEFAULT_TERMINATION_LOG = "/dev/termination-log";
    /** Kubernetes keeps at most this many bytes of a termination message. */
    public static final int TERMINATION_MESSAGE_LIMIT = 4096;

    private TrainerEnv() {
    }
}
