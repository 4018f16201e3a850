package io.fedtune.trainer.cli;

import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.trainer.model.DeviceRequest;
import io.fedtune.trainer.storage.CaBundle;
import io.fedtune.trainer.storage.ObjectStore;
import io.fedtune.trainer.storage.PresignedStore;
import io.fedtune.trainer.storage.StorageCredentials;
import io.fedtune.trainer.storage.StorageSession;

import java.nio.file.Path;
import java.util.Map;
import okhttp3.OkHttpClient;

/**
 * Storage and device settings from the environment. The contract's variables, plus for use outside a cluster
 * {@code FEDTUNE_STORAGE_ENDPOINT}, {@code FEDTUNE_STORAGE_REGION} and {@code FEDTUNE_DATA_ENDPOINT}.
 */
final class Environment {
    static final String STORAGE_ENDPOINT = "FEDTUNE_STORAGE_ENDPOINT";
    static final String STORAGE_REGION = "FEDTUNE_STORAGE_REGION";
    static final String DATA_ENDPOINT = "FEDTUNE_DATA_ENDPOINT";

    private final Map<String, String> env;
    private final ObjectStore.RetryListener retries;

    Environment(Map<String, String> env) {
        this(env, null);
    }

    /** @param retries told of each storage retry (tests); null: a line on stderr */
    Environment(Map<String, String> env, ObjectStore.RetryListener retries) {
        this.env = env;
        this.retries = retries;
    }

    static Environment system() {
        return new Environment(System.getenv());
    }

    String get(String name) {
        return env.get(name);
    }

    /** The contract's task JSON ({@link TrainerEnv#task}, at most {@link TrainerEnv#TASK_CAP}). */
    java.util.Optional<String> task() {
        return TrainerEnv.task(env::get);
    }

    Path workDir() {
        return Path.of(env.getOrDefault(TrainerEnv.WORK_DIR, System.getProperty("java.io.tmpdir") + "/fedtune"));
    }

    /** The cache that outlives pods, or null. */
    Path cacheDir() {
        String dir = env.get(TrainerEnv.CACHE_DIR);
        return dir == null || dir.isBlank() ? null : Path.of(dir);
    }

    /** What FEDTUNE_DEVICE asks for. */
    DeviceRequest device() {
        return DeviceRequest.parse(env.get(TrainerEnv.DEVICE));
    }

    /** How long a storage call rides out an outage: {@link TrainerEnv#STORAGE_RETRY_SECONDS}, else the contract's default. */
    ObjectStore.Retry storageRetry() {
        String seconds = env.get(TrainerEnv.STORAGE_RETRY_SECONDS);
        if (seconds == null || seconds.isBlank()) {
            return ObjectStore.Retry.contractDefault();
        }
        try {
            long s = Long.parseLong(seconds.trim());
            if (s >= 0) {
                return ObjectStore.Retry.of(java.time.Duration.ofSeconds(s));
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException(TrainerEnv.STORAGE_RETRY_SECONDS + " must be a whole number of seconds >= 0 (got \""
                + seconds + "\")");
    }

    /** Storage for commands run by hand: endpoints from the environment. */
    StorageSession session() {
        return session(env.get(STORAGE_ENDPOINT), env.get(STORAGE_REGION),
                env.getOrDefault(DATA_ENDPOINT, env.get(STORAGE_ENDPOINT)), env.get(STORAGE_REGION));
    }

    /** The shard's data is read with its own keys when it has them, else with the run's credentials. */
    StorageSession session(String runEndpoint, String runRegion, String dataEndpoint, String dataRegion) {
        return new StorageSession(() -> store(runEndpoint, runRegion, StorageCredentials.Keys.RUN),
                () -> store(dataEndpoint, dataRegion, env.containsKey(TrainerEnv.DATA_ACCESS_KEY)
                        ? StorageCredentials.Keys.DATA : StorageCredentials.Keys.RUN),
                workDir(), cacheDir());
    }

    /**
     * A trainer's storage when its task carries presigned URLs: the run's objects only through them (no run
     * credential is read), the shard's data with its own keys as before.
     */
    StorageSession presignedSession(TrainTask task) {
        PresignedAccess access = task.access();
        Map<S3Uri, PresignedAccess.Get> reads = new java.util.HashMap<>(PresignedStore.under(task.baseModel(), access.baseModel()));
        reads.putAll(PresignedStore.under(task.globalAdapter(), access.globalAdapter()));
        StorageRef data = task.dataStorage() == null ? task.storage() : task.dataStorage();
        return new StorageSession(() -> new PresignedStore(task.storage().endpoint(), access.expires(), reads,
                PresignedStore.under(task.output(), access.output()), http(), storageRetry(), retries),
                () -> store(data.endpoint(), data.region(), env.containsKey(TrainerEnv.DATA_ACCESS_KEY)
                        ? StorageCredentials.Keys.DATA : StorageCredentials.Keys.RUN),
                workDir(), cacheDir());
    }

    /** Storage for the aggregator: the run's store alone, from the task's endpoint; it reads no shard data. */
    StorageSession runSession(String endpoint, String region, Path workDir) {
        return new StorageSession(() -> store(endpoint, region, StorageCredentials.Keys.RUN),
                () -> {
                    throw new IllegalStateException("the aggregator reads no shard data");
                }, workDir, cacheDir());
    }

    private ObjectStore store(String endpoint, String region, StorageCredentials.Keys keys) {
        if (endpoint == null || endpoint.isBlank()) {
            throw new IllegalArgumentException("an s3:// location needs an endpoint (" + STORAGE_ENDPOINT + " or the task's storage)");
        }
        OkHttpClient http = http();
        return new ObjectStore(endpoint, region, StorageCredentials.of(env::get, keys, endpoint, region, http), http,
                storageRetry(), retries);
    }

    /** The HTTP client storage is reached with: the image's trust store plus FEDTUNE_STORAGE_CA_FILE when set. */
    private OkHttpClient http() {
        String ca = env.get(TrainerEnv.STORAGE_CA_FILE);
        return CaBundle.httpClient(ca == null || ca.isBlank() ? null : Path.of(ca));
    }
}
