package io.fedtune.api.contract;

import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.LoraSpec;
import java.util.List;
import java.util.Map;

/**
 * Aggregation of one round (env {@link TrainerEnv#TASK}, role aggregate). All object access uses the run's credentials.
 *
 * @param run               FederatedRun name
 * @param namespace         its namespace
 * @param round             round number, from 1
 * @param attempt           attempt number, from 1
 * @param storage           the run's object storage
 * @param baseModel         s3:// prefix of the base checkpoint (for evaluation)
 * @param baseModelSha256   expected SHA-256 of model.safetensors, or null
 * @param baseModelFiles    SHA-256 of every base checkpoint file as the run's preparation recorded it, by name; a
 *                          different file is InputTampered. Null: only baseModelSha256 is checked
 * @param previousGlobal    s3:// prefix of the adapter this round started from; null in round 1
 * @param previousGlobalSha256 SHA-256 of its adapter_model.safetensors as the operator recorded it; the aggregator
 *                          refuses a different file (InputTampered). Null: not checked
 * @param bestEvalScore     the best primary metric of earlier rounds (the primary set's metric), or null
 * @param updates           the round's successful shard updates
 * @param lora              the run's adapter shape (target rank)
 * @param aggregation       strategy and its options
 * @param optimizerState    s3:// prefix of the server optimizer's state (read if present, then rewritten)
 * @param optimizerStateSha256 the SHA-256 recorded for each state file the previous aggregation wrote, by name, or
 *                          null; a different file is refused (InputTampered), a recorded one absent is InputMissing
 * @param evalSets          global eval sets; the first is the primary one
 * @param maxSequenceLength for evaluation
 * @param seed              seed for noise (differential privacy)
 * @param participationRate fraction of eligible shards sampled this round (for the privacy accountant)
 * @param output            s3:// prefix to write the global adapter and manifest.json into
 */
public record AggregateTask(
        String run,
        String namespace,
        int round,
        int attempt,
        StorageRef storage,
        String baseModel,
        String baseModelSha256,
        Map<String, String> baseModelFiles,
        String previousGlobal,
        String previousGlobalSha256,
        Double bestEvalScore,
        List<ShardUpdate> updates,
        LoraSpec lora,
        AggregationSpec aggregation,
        String optimizerState,
        Map<String, String> optimizerStateSha256,
        List<EvalDataset> evalSets,
        int maxSequenceLength,
        long seed,
        double participationRate,
        String output) {

    /** The same task as another attempt: a retried aggregation repeats the first attempt's work exactly. */
    public AggregateTask withAttempt(int attempt) {
        return new AggregateTask(run, namespace, round, attempt, storage, baseModel, baseModelSha256, baseModelFiles, previousGlobal,
                previousGlobalSha256, bestEvalScore, updates, lora, aggregation, optimizerState, optimizerStateSha256, evalSets,
                maxSequenceLength, seed, participationRate, output);
    }
}
