package io.fedtune.trainer.cli;

import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.trainer.server.BaseModelPreparation;
import io.fedtune.trainer.storage.StorageSession;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fedtune-trainer prepare}: a run's preparation per the trainer contract (trainer-image/CONTRACT.md). */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Record the SHA-256 and size of every file of the run's base model (a PrepareTask) in the JSON termination message.")
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--task", description = "PrepareTask JSON file (default: the file in FEDTUNE_TASK_FILE, else FEDTUNE_TASK)")
    Path taskFile;

    @Option(names = "--work-dir", description = "scratch directory (default: FEDTUNE_WORK_DIR or /scratch)")
    Path workDir;

    @Option(names = "--termination-log", description = "where the JSON termination message goes "
            + "(default: FEDTUNE_TERMINATION_LOG or /dev/termination-log)")
    Path terminationLog;

    private final Environment env;

    PrepareCommand() {
        this(Environment.system());
    }

    PrepareCommand(Environment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        ServerTask server = new ServerTask(env, taskFile, workDir, terminationLog);
        PrepareResult result;
        try {
            PrepareTask task = server.read(PrepareTask.class);
            try (StorageSession storage = server.session(task.storage())) {
                result = TerminationMessage.fitting(new BaseModelPreparation(task, storage).run());
            }
        } catch (Exception | OutOfMemoryError e) {
            Failure f = Failure.of(e);
            result = PrepareResult.failed(f.reason(), f.message());
            System.err.println("prepare failed: " + f.reason() + ": " + f.message());
        }
        TerminationMessage.write(server.terminationLog(), TerminationMessage.prepare(result));
        return result.outcome() == Outcome.Succeeded ? 0 : 1;
    }
}
