package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.Combine;
import io.fedtune.trainer.aggregate.AggregationInputs;
import io.fedtune.trainer.aggregate.Contributions;
import io.fedtune.trainer.aggregate.GlobalOutput;
import io.fedtune.trainer.aggregate.OfferedUpdate;
import io.fedtune.trainer.aggregate.RoundFailed;
import io.fedtune.trainer.aggregate.RoundPrivacy;
import io.fedtune.trainer.aggregate.TruncationEnergy;
import io.fedtune.trainer.aggregate.combine.ShardWeights;
import io.fedtune.trainer.aggregate.verify.NormOf;
import io.fedtune.trainer.aggregate.verify.UpdateVerifier;
import io.fedtune.trainer.aggregate.verify.Verdict;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A and B averaged separately, coordinate by coordinate (the common baseline; not the average of the products B·A). */
final class FedAvg implements Strategy {

    @Override
    public void check(AggregationInputs in) throws RoundFailed {
        CoordinateCombination.checkPreviousRank(in);
    }

    @Override
    public UpdateVerifier verifier(AggregationInputs in) {
        return new UpdateVerifier(in.layout(), in.lora().rank, NormOf.FACTORS, in.previous());
    }

    /** Plain FedAvg (mean, no privacy): the mean of all updates is the likely result and is written while verifying. */
    @Override
    public Optional<List<Verdict>> verifyWhileWriting(AggregationInputs in, UpdateVerifier verifier, Path weightsFile)
            throws IOException {
        AggregationSpec spec = in.aggregation();
        if (spec.robustness.combine != Combine.Mean || spec.privacy != null || in.updates().isEmpty()) {
            return Optional.empty();
        }
        double[] rawWeights = ShardWeights.raw(spec.weighting,
                in.updates().stream().mapToLong(OfferedUpdate::samples).toArray(),
                in.updates().stream().mapToDouble(OfferedUpdate::weight).toArray());
        try (OnePassMean pass = new OnePassMean(verifier, in.updates(), rawWeights)) {
            if (!pass.open()) {
                return Optional.empty();
            }
            List<TensorSpec> specs = GlobalOutput.tensors(in.layout(), in.lora().rank);
            try (CoordinateOutput out = CoordinateOutput.open(in, specs, weightsFile)) {
                pass.writeMean(specs, out);
            }
            return Optional.of(pass.verdicts());
        }
    }

    @Override
    public TruncationEnergy write(AggregationInputs in, Contributions contributions, RoundPrivacy privacy, Path weightsFile)
            throws IOException {
        CoordinateCombination.write(in, contributions, privacy, weightsFile, name -> false);
        return null;
    }
}
