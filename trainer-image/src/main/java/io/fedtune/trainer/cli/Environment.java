package io.fedtune.trainer.cli;

import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.trainer.storage.ObjectStore;
import io.fedtune.trainer.storage.StorageSession;

import java.nio.file.Path;
import java.util.Map;

/**
 * Storage settings from the environment. The contract's credential variables, plus for use outside a cluster
 * {@code FEDTUNE_STORAGE_ENDPOINT}, {@code FEDTUNE_STORAGE_REGION} and {@code FEDTUNE_DATA_ENDPOINT}.
 */
final class Environment {
    static final String STORAGE_ENDPOINT = "FEDTUNE_STORAGE_ENDPOINT";
    static final String STORAGE_REGION = "FEDTUNE_STORAGE_REGION";
    static final String DATA_ENDPOINT = "FEDTUNE_DATA_ENDPOINT";

    private final Map<String, String> env;

    Environment(Map<String, String> env) {
        this.env = env;
    }

    static Environment system() {
        return new Environment(System.getenv());
    }

    String get(String name) {
        return env.get(name);
    }

    Path workDir() {
        return Path.of(env.getOrDefault(TrainerEnv.WORK_DIR, System.getProperty("java.io.tmpdir") + "/fedtune"));
    }

    /** Storage for commands run by hand: endpoints from the environment. */
    StorageSession session() {
        return session(env.get(STORAGE_ENDPOINT), env.get(STORAGE_REGION),
                env.getOrDefault(DATA_ENDPOINT, env.get(STORAGE_ENDPOINT)), env.get(STORAGE_REGION));
    }

    StorageSession session(String runEndpoint, String runRegion, String dataEndpoint, String dataRegion) {
        return new StorageSession(
                () -> store(runEndpoint, runRegion, TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY),
                () -> env.containsKey(TrainerEnv.DATA_ACCESS_KEY)
                        ? store(dataEndpoint, dataRegion, TrainerEnv.DATA_ACCESS_KEY, TrainerEnv.DATA_SECRET_KEY)
                        : store(dataEndpoint, dataRegion, TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY),
                workDir());
    }

    /** Storage for the aggregator: the run's store alone, from the task's endpoint; it reads no shard data. */
    StorageSession runSession(String endpoint, String region, Path workDir) {
        return new StorageSession(() -> store(endpoint, region, TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY),
                () -> {
                    throw new IllegalStateException("the aggregator reads no shard data");
                }, workDir);
    }

    private ObjectStore store(String endpoint, String region, String keyVar, String secretVar) {
        if (endpoint == null || endpoint.isBlank()) {
            throw new IllegalArgumentException("an s3:// location needs an endpoint (" + STORAGE_ENDPOINT + " or the task's storage)");
        }
        if (env.get(keyVar) == null || env.get(secretVar) == null) {
            throw new IllegalArgumentException("an s3:// location needs credentials in " + keyVar + " and " + secretVar);
        }
        return new ObjectStore(endpoint, region, env.get(keyVar), env.get(secretVar));
    }
}
