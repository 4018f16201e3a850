package io.fedtune.trainer.cli;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.trainer.server.ResultPublication;
import io.fedtune.trainer.storage.StorageSession;
import picocli.CommandLine.Command;

/** {@code fedtune-trainer publish}: a succeeded run's result copied to final/ per the trainer contract. */
@Command(name = "publish", mixinStandardHelpOptions = true,
        description = "Copy the best global adapter (a PublishTask) to the run's final/ prefix, verified, with a manifest.json.")
final class PublishCommand extends ServerCommand<PublishTask, PublishResult> {

    PublishCommand() {
        this(Environment.system());
    }

    PublishCommand(Environment env) {
        super(env, "publish", PublishTask.class);
    }

    @Override
    PublishResult run(PublishTask task, StorageSession storage) throws Exception {
        return new ResultPublication(task, storage).run();
    }

    @Override
    PublishResult failed(FailureReason reason, String message) {
        return PublishResult.failed(reason, message);
    }

    @Override
    boolean succeeded(PublishResult result) {
        return result.outcome() == Outcome.Succeeded;
    }

    @Override
    byte[] message(PublishResult result) {
        return TerminationMessage.publish(result);
    }

    @Override
    StorageRef storage(PublishTask task) {
        return task.storage();
    }
}
