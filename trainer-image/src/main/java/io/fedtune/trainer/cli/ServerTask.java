package io.fedtune.trainer.cli;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.trainer.storage.StorageSession;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What the server's roles (aggregate, prepare, publish) share: the task from {@code --task}, the file
 * {@code FEDTUNE_TASK_FILE} names or {@code FEDTUNE_TASK}; the run's storage with its credentials; scratch and the
 * termination log from the options or the contract's variables.
 */
final class ServerTask {
    private final Environment env;
    private final Path taskFile;
    private final Path workDir;
    private final Path terminationLog;

    ServerTask(Environment env, Path taskFile, Path workDir, Path terminationLog) {
        this.env = env;
        this.taskFile = taskFile;
        this.workDir = workDir;
        this.terminationLog = terminationLog;
    }

    <T> T read(Class<T> type) throws IOException {
        String json = taskFile != null ? TrainerEnv.taskFile(taskFile) : env.task().orElseThrow(() ->
                new IllegalArgumentException("no task: set " + TrainerEnv.TASK_FILE + " or " + TrainerEnv.TASK + ", or pass --task"));
        return ContractJson.read(json, type);
    }

    StorageSession session(StorageRef storage) {
        Path work = workDir != null ? workDir : Path.of(env(TrainerEnv.WORK_DIR, TrainerEnv.DEFAULT_WORK_DIR));
        return env.runSession(storage == null ? null : storage.endpoint(), storage == null ? null : storage.region(), work);
    }

    Path terminationLog() {
        return terminationLog != null ? terminationLog : Path.of(env(TrainerEnv.TERMINATION_LOG, TrainerEnv.DEFAULT_TERMINATION_LOG));
    }

    private String env(String name, String fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
