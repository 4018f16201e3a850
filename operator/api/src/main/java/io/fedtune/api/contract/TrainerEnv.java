package io.fedtune.api.contract;

/**
 * Environment variables of the trainer contract: what the operator sets on trainer and aggregation pods.
 * See trainer-image/CONTRACT.md.
 */
public final class TrainerEnv {
    /**
     * The task as JSON: a {@link TrainTask} for role train (trainer pods), a {@link PrepareTask} for role prepare and a
     * {@link PublishTask} for role publish (the server's preparation and publishing pods).
     */
    public static final String TASK = "FEDTUNE_TASK";
    /**
     * Path of a file holding the task as JSON, set instead of {@link #TASK}: the {@link AggregateTask} of an aggregation
     * pod (one update per shard outgrows an environment variable: Linux refuses a single one over 128 KiB at exec). The
     * file comes from a ConfigMap owned by the run, mounted read-only. Images read this file when it is set, else TASK.
     */
    public static final String TASK_FILE = "FEDTUNE_TASK_FILE";
    /** Where the operator mounts the task ConfigMap, and the file (ConfigMap key) in it. */
    public static final String DEFAULT_TASK_DIR = "/etc/fedtune/task";
    public static final String TASK_FILE_NAME = "task.json";
    /** {@code train}, {@code aggregate}, {@code prepare} or {@code publish}; also the container's first argument. */
    public static final String ROLE = "FEDTUNE_ROLE";
    /** Run's S3 credentials: base model, global adapters, outputs, global eval sets. From the run's Secret. */
    public static final String STORAGE_ACCESS_KEY = "FEDTUNE_STORAGE_ACCESS_KEY_ID";
    public static final String STORAGE_SECRET_KEY = "FEDTUNE_STORAGE_SECRET_ACCESS_KEY";
    /** Session token of temporary run credentials (STS), from the Secret's sessionTokenKey; set only when that key is. */
    public static final String STORAGE_SESSION_TOKEN = "FEDTUNE_STORAGE_SESSION_TOKEN";
    /**
     * Path of a PEM CA bundle for the run's storage endpoint (spec.storage.caBundle, a read-only ConfigMap mount); set only
     * when the run names one. Images add it to the trust store they reach storage with.
     */
    public static final String STORAGE_CA_FILE = "FEDTUNE_STORAGE_CA_FILE";
    public static final String DEFAULT_STORAGE_CA_DIR = "/etc/fedtune/storage-ca";
    /**
     * Workload identity (spec.storage.webIdentity), under the AWS SDKs' own names: the role to assume and a projected
     * ServiceAccount token to assume it with (STS AssumeRoleWithWebIdentity). Set instead of the storage key variables.
     */
    public static final String AWS_ROLE_ARN = "AWS_ROLE_ARN";
    public static final String AWS_WEB_IDENTITY_TOKEN_FILE = "AWS_WEB_IDENTITY_TOKEN_FILE";
    public static final String DEFAULT_WEB_IDENTITY_TOKEN_DIR = "/var/run/secrets/fedtune/storage-token";
    public static final String WEB_IDENTITY_TOKEN_FILE_NAME = "token";
    /**
     * Whole seconds a pod retries the run's object storage through an outage (connection refused, timeouts, 5xx,
     * throttling) before it fails with StorageUnreachable: spec.participation.storageRetryTimeout, capped by the round
     * timeout. Unset: {@link #DEFAULT_STORAGE_RETRY_SECONDS}.
     */
    public static final String STORAGE_RETRY_SECONDS = "FEDTUNE_STORAGE_RETRY_SECONDS";
    public static final int DEFAULT_STORAGE_RETRY_SECONDS = 300;
    /** The shard's own S3 credentials for its data; set on that shard's trainer pod only. */
    public static final String DATA_ACCESS_KEY = "FEDTUNE_DATA_ACCESS_KEY_ID";
    public static final String DATA_SECRET_KEY = "FEDTUNE_DATA_SECRET_ACCESS_KEY";
    /** Session token of the shard's temporary credentials, from its Secret's sessionTokenKey; set only when that key is. */
    public static final String DATA_SESSION_TOKEN = "FEDTUNE_DATA_SESSION_TOKEN";
    /** Writable scratch directory (an emptyDir): model cache and temporary files. */
    public static final String WORK_DIR = "FEDTUNE_WORK_DIR";
    /** Where the JSON termination message goes; the container's terminationMessagePath. */
    public static final String TERMINATION_LOG = "FEDTUNE_TERMINATION_LOG";

    /**
     * Which device the container must train and evaluate on: {@code cpu}, {@code gpu}, or unset for auto (a usable GPU
     * if there is one, else the CPU). The operator sets {@code gpu} when the container's resources name
     * {@value #GPU_RESOURCE}; under {@code gpu} an image that cannot use a GPU fails with GpuUnavailable, never trains on
     * the CPU instead.
     */
    public static final String DEVICE = "FEDTUNE_DEVICE";
    public static final String DEVICE_CPU = "cpu";
    public static final String DEVICE_GPU = "gpu";
    /** The extended resource a GPU is asked for with (NVIDIA's device plugin). */
    public static final String GPU_RESOURCE = "nvidia.com/gpu";
    /**
     * A directory that outlives pods (a PersistentVolumeClaim shared by the run's pods), for the base model: downloaded
     * once under {@code models/<sha256 of model.safetensors>/} and verified on every use. Unset: the scratch directory.
     */
    public static final String CACHE_DIR = "FEDTUNE_CACHE_DIR";
    /** Where the operator mounts the cache volume (spec.trainer.cache, spec.aggregator.cache). */
    public static final String DEFAULT_CACHE_DIR = "/var/cache/fedtune";

    public static final String DEFAULT_WORK_DIR = "/scratch";
    public static final String DEFAULT_TERMINATION_LOG = "/dev/termination-log";
    /** Kubernetes keeps at most this many bytes of a termination message. */
    public static final int TERMINATION_MESSAGE_LIMIT = 4096;
    /** The largest task a trainer reads: a ConfigMap holds 1 MiB, so this leaves room and still bounds the heap. */
    public static final int TASK_CAP = 16 * 1024 * 1024;

    private TrainerEnv() {
    }

    /**
     * The task JSON of the contract: the file {@link #TASK_FILE} names when it is set, else {@link #TASK}; empty when
     * neither is set. {@code env} looks up an environment variable (System::getenv in an image).
     */
    public static java.util.Optional<String> task(java.util.function.Function<String, String> env) {
        String file = env.apply(TASK_FILE);
        if (file != null && !file.isBlank()) {
            return java.util.Optional.of(taskFile(java.nio.file.Path.of(file)));
        }
        String json = env.apply(TASK);
        if (json != null && json.length() > TASK_CAP) {
            throw new IllegalArgumentException(TASK + " is " + json.length() + " characters, over the cap of " + TASK_CAP
                    + " bytes");
        }
        return json == null || json.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(json);
    }

    /** A task file, read no further than {@link #TASK_CAP}: a larger one is refused naming the file and the cap. */
    public static String taskFile(java.nio.file.Path file) {
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(TASK_CAP + 1);
            if (bytes.length > TASK_CAP) {
                throw new IllegalArgumentException("the task file " + file + " is over the cap of " + TASK_CAP
                        + " bytes (" + TASK_CAP / (1024 * 1024) + " MiB)");
            }
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the task file " + file + " (" + TASK_FILE + ")", e);
        }
    }
}
