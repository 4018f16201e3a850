package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.Refusal;
import java.util.List;

/**
 * What one round's aggregation did; the body of the global adapter's manifest.json.
 *
 * @param round             round number
 * @param strategy          FedAvg, FFA or ExactProduct
 * @param combine           Mean, TrimmedMean or Median
 * @param serverOptimizer   None or the optimizer applied
 * @param accepted          shards averaged in
 * @param refused           shards left out, with reasons
 * @param normBound         the round's update norm bound, or null when off
 * @param truncationEnergy  ExactProduct: fraction of the exact update's energy kept, over all modules; else null
 * @param worstModuleEnergy ExactProduct: the smallest fraction kept by one module; else null
 * @param epsilonRound      privacy epsilon of this round alone, or null without privacy
 * @param epsilon           cumulative privacy epsilon over the run so far, or null
 * @param delta             the delta both epsilons are for, or null
 * @param sha256            SHA-256 of the new adapter_model.safetensors
 * @param bytesRead         bytes of shard adapters read
 * @param verifySeconds     time spent verifying updates
 * @param combineSeconds    time spent combining and writing
 */
public record RoundReport(
        int round,
        String strategy,
        String combine,
        String serverOptimizer,
        List<AcceptedShard> accepted,
        List<Refusal> refused,
        Double normBound,
        Double truncationEnergy,
        Double worstModuleEnergy,
        Double epsilonRound,
        Double epsilon,
        Double delta,
        String sha256,
        long bytesRead,
        double verifySeconds,
        double combineSeconds) {

    /**
     * @param weight    normalised weight in the combination
     * @param norm      L2 norm of its update
     * @param clipScale factor its update was scaled by (norm bound Clip mode, privacy clipping); 1 when untouched
     */
    public record AcceptedShard(String shard, long samples, int rank, double weight, double norm, double clipScale) {
    }
}
