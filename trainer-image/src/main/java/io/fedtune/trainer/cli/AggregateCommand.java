package io.fedtune.trainer.cli;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.trainer.aggregate.AggregationJob;
import io.fedtune.trainer.storage.StorageSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code fedtune-trainer aggregate}: one round's aggregation per the trainer contract (trainer-image/CONTRACT.md).
 * Locations are s3:// prefixes or local directories.
 */
@Command(name = "aggregate", mixinStandardHelpOptions = true,
        description = "Verify the round's shard adapters, aggregate them into the next global adapter, write its manifest "
                + "and the JSON termination message.")
public final class AggregateCommand extends ServerCommand<AggregateTask, AggregateResult> {

    public AggregateCommand() {
        this(Environment.system());
    }

    AggregateCommand(Environment env) {
        super(env, "aggregate", AggregateTask.class);
    }

    /** The aggregation alone, in a JVM of its own (the memory test runs it with a small heap). */
    public static void main(String[] args) {
        System.exit(new CommandLine(new AggregateCommand()).execute(args));
    }

    @Override
    AggregateResult run(AggregateTask task, StorageSession storage) throws Exception {
        return new AggregationJob(task, storage, env.device()).run();
    }

    @Override
    AggregateResult failed(FailureReason reason, String message) {
        return AggregateResult.failed(reason, message);
    }

    @Override
    boolean succeeded(AggregateResult result) {
        return result.outcome() == Outcome.Succeeded;
    }

    @Override
    byte[] message(AggregateResult result) {
        return TerminationMessage.aggregate(result);
    }

    @Override
    StorageRef storage(AggregateTask task) {
        return task.storage();
    }
}
