package io.fedtune.trainer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The trainer image's one command line. Subcommands register in the list below. */
@Command(name = "fedtune-trainer", mixinStandardHelpOptions = true, version = "fedtune-trainer 0.1.0",
        description = "Federated LoRA fine-tuning workload: train one round for one shard, aggregate a round, prepare a run's base model, publish its result, evaluate, generate text, make a base model, partition data.",
        subcommands = {
                TrainCommand.class,
                EvaluateCommand.class,
                GenerateCommand.class,
                PretrainCommand.class,
                PartitionCommand.class,
                BenchCommand.class,
                AggregateCommand.class,
                PrepareCommand.class,
                PublishCommand.class,
        })
public final class FedtuneTrainer implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        DjlRuntime.configure();
        return new CommandLine(new FedtuneTrainer()).execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
