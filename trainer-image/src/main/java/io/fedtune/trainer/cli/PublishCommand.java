package io.fedtune.trainer.cli;

import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.trainer.server.ResultPublication;
import io.fedtune.trainer.storage.StorageSession;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fedtune-trainer publish}: a succeeded run's result copied to final/ per the trainer contract. */
@Command(name = "publish", mixinStandardHelpOptions = true,
        description = "Copy the best global adapter (a PublishTask) to the run's final/ prefix, verified, with a manifest.json.")
final class PublishCommand implements Callable<Integer> {
    @Option(names = "--task", description = "PublishTask JSON file (default: the file in FEDTUNE_TASK_FILE, else FEDTUNE_TASK)")
    Path taskFile;

    @Option(names = "--work-dir", description = "scratch directory (default: FEDTUNE_WORK_DIR or /scratch)")
    Path workDir;

    @Option(names = "--termination-log", description = "where the JSON termination message goes "
            + "(default: FEDTUNE_TERMINATION_LOG or /dev/termination-log)")
    Path terminationLog;

    private final Environment env;

    PublishCommand() {
        this(Environment.system());
    }

    PublishCommand(Environment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        ServerTask server = new ServerTask(env, taskFile, workDir, terminationLog);
        PublishResult result;
        try {
            PublishTask task = server.read(PublishTask.class);
            try (StorageSession storage = server.session(task.storage())) {
                result = new ResultPublication(task, storage).run();
            }
        } catch (Exception | OutOfMemoryError e) {
            Failure f = Failure.of(e);
            result = PublishResult.failed(f.reason(), f.message());
            System.err.println("publish failed: " + f.reason() + ": " + f.message());
        }
        TerminationMessage.write(server.terminationLog(), TerminationMessage.publish(result));
        return result.outcome() == Outcome.Succeeded ? 0 : 1;
    }
}
