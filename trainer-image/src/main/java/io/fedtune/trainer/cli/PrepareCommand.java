package io.fedtune.trainer.cli;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.trainer.server.BaseModelPreparation;
import io.fedtune.trainer.storage.StorageSession;
import picocli.CommandLine.Command;

/** {@code fedtune-trainer prepare}: a run's preparation per the trainer contract (trainer-image/CONTRACT.md). */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Record the SHA-256 and size of every file of the run's base model (a PrepareTask) in the JSON termination message.")
final class PrepareCommand extends ServerCommand<PrepareTask, PrepareResult> {

    PrepareCommand() {
        this(Environment.system());
    }

    PrepareCommand(Environment env) {
        super(env, "prepare", PrepareTask.class);
    }

    @Override
    PrepareResult run(PrepareTask task, StorageSession storage) throws Exception {
        return TerminationMessage.fitting(new BaseModelPreparation(task, storage).run());
    }

    @Override
    PrepareResult failed(FailureReason reason, String message) {
        return PrepareResult.failed(reason, message);
    }

    @Override
    boolean succeeded(PrepareResult result) {
        return result.outcome() == Outcome.Succeeded;
    }

    @Override
    byte[] message(PrepareResult result) {
        return TerminationMessage.prepare(result);
    }

    @Override
    StorageRef storage(PrepareTask task) {
        return task.storage();
    }
}
