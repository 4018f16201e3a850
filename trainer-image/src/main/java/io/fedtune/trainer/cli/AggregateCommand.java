package io.fedtune.trainer.cli;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.Outcome;
import io.fedtune.trainer.aggregate.AggregationJob;
import io.fedtune.trainer.storage.StorageSession;
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
        ServerTask server = new ServerTask(env, taskFile, workDir, terminationLog);
        AggregateResult result;
        try {
            AggregateTask task = server.read(AggregateTask.class);
            try (StorageSession storage = server.session(task.storage())) {
                result = new AggregationJob(task, storage, env.device()).run();
            }
        } catch (Exception | OutOfMemoryError e) {
            Failure f = Failure.of(e);
            result = AggregateResult.failed(f.reason(), f.message());
        }
        TerminationMessage.write(server.terminationLog(), TerminationMessage.aggregate(result));
        return result.outcome() == Outcome.Succeeded ? 0 : 1;
    }
}
