package io.fedtune.trainer.cli;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.trainer.storage.StorageSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Option;

/**
 * What the server's roles (aggregate, prepare, publish) share: the task from {@code --task}, the file
 * {@code FEDTUNE_TASK_FILE} names or {@code FEDTUNE_TASK}; the run's storage with its credentials; scratch and the
 * termination log from the options or the contract's variables; a failure turned into a result by its reason.
 *
 * @param <T> the role's task record
 * @param <R> the role's result record (the termination message)
 */
abstract class ServerCommand<T, R> implements Callable<Integer> {
    @Option(names = "--task", description = "the task's JSON file (default: the file in FEDTUNE_TASK_FILE, else the "
            + "FEDTUNE_TASK environment variable)")
    Path taskFile;

    @Option(names = "--work-dir", description = "scratch directory (default: FEDTUNE_WORK_DIR or /scratch)")
    Path workDir;

    @Option(names = "--termination-log", description = "where the JSON termination message goes "
            + "(default: FEDTUNE_TERMINATION_LOG or /dev/termination-log)")
    Path terminationLog;

    final Environment env;
    private final String role;
    private final Class<T> taskType;

    ServerCommand(Environment env, String role, Class<T> taskType) {
        this.env = env;
        this.role = role;
        this.taskType = taskType;
    }

    /** The role's work on its task, in a session over the run's storage. */
    abstract R run(T task, StorageSession storage) throws Exception;

    abstract R failed(FailureReason reason, String message);

    abstract boolean succeeded(R result);

    /** The termination message for a result (within the contract's 4 KB). */
    abstract byte[] message(R result);

    abstract StorageRef storage(T task);

    @Override
    public final Integer call() {
        R result;
        try {
            T task = read();
            try (StorageSession storage = session(storage(task))) {
                result = run(task, storage);
            }
        } catch (Exception | OutOfMemoryError e) {
            Failure f = Failure.of(e);
            result = failed(f.reason(), f.message());
            System.err.println(role + " failed: " + f.reason() + ": " + f.message());
        }
        TerminationMessage.write(terminationLog(), message(result));
        return succeeded(result) ? 0 : 1;
    }

    private T read() throws IOException {
        String json = taskFile != null ? TrainerEnv.taskFile(taskFile) : env.task().orElseThrow(() ->
                new IllegalArgumentException("no task: set " + TrainerEnv.TASK_FILE + " or " + TrainerEnv.TASK + ", or pass --task"));
        return ContractJson.read(json, taskType);
    }

    private StorageSession session(StorageRef storage) {
        Path work = workDir != null ? workDir : Path.of(env(TrainerEnv.WORK_DIR, TrainerEnv.DEFAULT_WORK_DIR));
        return env.runSession(storage == null ? null : storage.endpoint(), storage == null ? null : storage.region(), work);
    }

    private Path terminationLog() {
        return terminationLog != null ? terminationLog : Path.of(env(TrainerEnv.TERMINATION_LOG, TrainerEnv.DEFAULT_TERMINATION_LOG));
    }

    private String env(String name, String fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
