package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.trainer.storage.ObjectStore;
import io.fedtune.trainer.storage.StorageException;
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

    public static void main(String[] args) {
        System.exit(new CommandLine(new AggregateCommand()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        AggregateResult result;
        try {
            AggregateTask task = ContractJson.read(taskJson(), AggregateTask.class);
            Path work = workDir != null ? workDir : Path.of(env(TrainerEnv.WORK_DIR, TrainerEnv.DEFAULT_WORK_DIR));
            Files.createDirectories(work);
            result = new AggregationJob(task, new RoundStorage(objectStore(task), work)).run();
        } catch (RoundFailed e) {
            result = AggregateResult.failed(e.reason(), e.getMessage());
        } catch (IllegalArgumentException e) {
            result = AggregateResult.failed("InvalidTask", e.getMessage());
        } catch (StorageException e) {
            result = AggregateResult.failed(e.kind() == StorageException.Kind.ACCESS_DENIED ? "AccessDenied"
                    : "StorageUnreachable", e.getMessage());
        } catch (IOException | RuntimeException e) {
            result = AggregateResult.failed("Internal", e.toString());
        }
        String message = TerminationMessage.of(result);
        Path log = terminationLog != null ? terminationLog
                : Path.of(env(TrainerEnv.TERMINATION_LOG, TrainerEnv.DEFAULT_TERMINATION_LOG));
        try {
            Files.writeString(log, message, StandardCharsets.UTF_8);
        } catch (IOException e) {
            System.err.println("cannot write the termination message to " + log + ": " + e.getMessage());
        }
        System.out.println(message);
        return result.outcome() == io.fedtune.api.contract.Outcome.Succeeded ? 0 : 1;
    }

    private String taskJson() throws IOException {
        if (taskFile != null) {
            return Files.readString(taskFile, StandardCharsets.UTF_8);
        }
        return TrainerEnv.task(System::getenv).orElseThrow(() -> new IllegalArgumentException("no task: set "
                + TrainerEnv.TASK_FILE + " or " + TrainerEnv.TASK + ", or pass --task"));
    }

    private static ObjectStore objectStore(AggregateTask task) {
        String access = System.getenv(TrainerEnv.STORAGE_ACCESS_KEY);
        String secret = System.getenv(TrainerEnv.STORAGE_SECRET_KEY);
        if (task.storage() == null || task.storage().endpoint() == null || access == null || secret == null) {
            return null;
        }
        return new ObjectStore(task.storage().endpoint(), task.storage().region(), access, secret);
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
