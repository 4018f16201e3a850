package io.fedtune.trainer.cli;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.trainer.aggregate.AggregationJob;
import io.fedtune.trainer.storage.StorageSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fedtune-trainer aggregate}: one round's aggregation per the trainer contract (trainer-image/CONTRACT.md).
 * The task comes from {@code --task}, the file {@code FEDTUNE_TASK_FILE} names, or {@code FEDTUNE_TASK}; locations are s3:// prefixes or local directories.
 */
@Command(name = "aggregate", mixinStandardHelpOptions = true,
        description = "Verify the round's shard adapters, aggregate them into the next global adapter, write its manifest "
                + "and the JSON termination message.")
public final class AggregateCommand implements Callable<Integer> {
    @Option(names = "--task", description = "AggregateTask JSON file (default: the file in FEDTUNE_TASK_FILE, else the FEDTUNE_TASK environment variable)")
    Path taskFile;

    @Option(names = "--work-dir", description = "scratch directory (default: FEDTUNE_WORK_DIR or /scratch)")
    Path workDir;

    @Option(names = "--termination-log", description = "where the JSON termination message goes "
            + "(default: FEDTUNE_TERMINATION_LOG or /dev/termination-log)")
    Path terminationLog;

    private final Environment env;

    public AggregateCommand() {
        this(Environment.system());
    }

    AggregateCommand(Environment env) {
        this.env = env;
    }

    /** The aggregation alone, in a JVM of its own (the memory test runs it with a small heap). */
    public static void main(String[] args) {
        System.exit(new CommandLine(new AggregateCommand()).execute(args));
    }

    @Override
    public Integer call() {
        AggregateResult result;
        try {
            AggregateTask task = ContractJson.read(taskJson(), AggregateTask.class);
            Path work = workDir != null ? workDir : Path.of(env(TrainerEnv.WORK_DIR, TrainerEnv.DEFAULT_WORK_DIR));
            try (StorageSession storage = env.runSession(task.storage() == null ? null : task.storage().endpoint(),
                    task.storage() == null ? null : task.storage().region(), work)) {
                result = new AggregationJob(task, storage, env.device()).run();
            }
        } catch (Exception | OutOfMemoryError e) {
            Failure f = Failure.of(e);
            result = AggregateResult.failed(f.reason(), f.message());
        }
        Path log = terminationLog != null ? terminationLog
                : Path.of(env(TrainerEnv.TERMINATION_LOG, TrainerEnv.DEFAULT_TERMINATION_LOG));
        TerminationMessage.write(log, TerminationMessage.aggregate(result));
        return result.outcome() == Outcome.Succeeded ? 0 : 1;
    }

    private String taskJson() throws IOException {
        if (taskFile != null) {
            return TrainerEnv.taskFile(taskFile);
        }
        return env.task().orElseThrow(() -> new IllegalArgumentException("no task: set "
                + TrainerEnv.TASK_FILE + " or " + TrainerEnv.TASK + ", or pass --task"));
    }

    private String env(String name, String fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
