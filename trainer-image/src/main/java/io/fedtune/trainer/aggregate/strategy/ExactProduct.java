package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.Combine;
import io.fedtune.api.v1alpha1.ServerOptimizer;
import io.fedtune.trainer.aggregate.AggregationInputs;
import io.fedtune.trainer.aggregate.Contributions;
import io.fedtune.trainer.aggregate.RoundFailed;
import io.fedtune.trainer.aggregate.RoundPrivacy;
import io.fedtune.trainer.aggregate.TruncationEnergy;
import io.fedtune.trainer.aggregate.verify.NormOf;
import io.fedtune.trainer.aggregate.verify.UpdateVerifier;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The weighted sum of the shards' weight updates s·B·A, factored back to the run's rank by QR and a small SVD; ranks
 * may differ between shards (heterogeneous LoRA).
 */
final class ExactProduct implements Strategy {

    @Override
    public void check(AggregationInputs in) throws RoundFailed {
        AggregationSpec spec = in.aggregation();
        if (spec.robustness.combine != Combine.Mean) {
            throw invalid("TrimmedMean and Median work coordinate-wise: use FedAvg or FFA");
        }
        if (spec.serverOptimizer.type != ServerOptimizer.None) {
            throw invalid("server optimizers act on factor coordinates, which ExactProduct re-factors every round: "
                    + "use FedAvg or FFA with " + spec.serverOptimizer.type);
        }
        if (spec.privacy != null) {
            throw invalid("privacy noise must be added to the transmitted coordinates: use FedAvg or FFA");
        }
    }

    private static RoundFailed invalid(String message) {
        return new RoundFailed(FailureReason.InvalidTask, message);
    }

    @Override
    public UpdateVerifier verifier(AggregationInputs in) {
        return new UpdateVerifier(in.layout(), null, NormOf.PRODUCT, in.previous());
    }

    @Override
    public TruncationEnergy write(AggregationInputs in, Contributions contributions, RoundPrivacy privacy, Path weightsFile)
            throws IOException {
        return ProductCombination.write(in, contributions.accepted(), weightsFile);
    }
}
