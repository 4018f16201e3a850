package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.v1alpha1.Combine;
import io.fedtune.trainer.aggregate.AggregationInputs;
import io.fedtune.trainer.aggregate.Contribution;
import io.fedtune.trainer.aggregate.Contributions;
import io.fedtune.trainer.aggregate.GlobalOutput;
import io.fedtune.trainer.aggregate.RoundFailed;
import io.fedtune.trainer.aggregate.RoundPrivacy;
import io.fedtune.trainer.aggregate.combine.CoordinateCombine;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * FedAvg and FFA's output, tensor by tensor: new = prev + combine(c_i·(x_i − prev)) [+ noise], then the server
 * optimizer. Memory holds one tensor per shard.
 */
final class CoordinateCombination {
    private CoordinateCombination() {
    }

    /** Coordinate-wise rounds step from the previous global adapter, coordinate by coordinate: it must have the run's rank. */
    static void checkPreviousRank(AggregationInputs in) throws RoundFailed {
        if (in.previous() != null && in.previous().config().r() != in.lora().rank) {
            throw new RoundFailed(FailureReason.InvalidTask, "the previous global adapter has rank "
                    + in.previous().config().r() + ", the run " + in.lora().rank);
        }
    }

    /** @param frozen tensors identical on every accepted update (checked), carried unchanged and never stepped */
    static void write(AggregationInputs in, Contributions contributions, RoundPrivacy privacy, Path weightsFile,
            Predicate<String> frozen) throws IOException {
        List<TensorSpec> specs = GlobalOutput.tensors(in.layout(), in.lora().rank);
        CoordinateCombine combine = new CoordinateCombine(in.aggregation().robustness.combine,
                in.aggregation().robustness.trimFraction);
        List<Contribution> accepted = contributions.accepted();
        double[] weights = contributions.weights();
        double[] coefficients = accepted.stream().mapToDouble(Contribution::coefficient).toArray();
        double coefficientSum = 0;
        for (double c : coefficients) {
            coefficientSum += c;
        }
        try (UpdateReaders readers = UpdateReaders.open(accepted);
             CoordinateOutput output = CoordinateOutput.open(in, specs, weightsFile)) {
            float[][] values = new float[accepted.size()][];
            for (TensorSpec t : specs) {
                String name = t.name();
                float[] prev = in.previous() == null ? null : in.previous().tensor(name);
                for (int i = 0; i < values.length; i++) {
                    values[i] = readers.get(i).readFloats(name);
                }
                float[] out = new float[values[0].length];
                boolean carried = frozen.test(name);
                if (carried) {
                    // identical on every accepted shard (checked); averaging would only add rounding
                    System.arraycopy(values[0], 0, out, 0, out.length);
                } else if (combine.rule() == Combine.Mean) {
                    CoordinateCombine.mean(values, coefficients, out);
                    if (prev != null && coefficientSum != 1.0) {
                        float rest = (float) (1.0 - coefficientSum);
                        for (int j = 0; j < out.length; j++) {
                            out[j] += rest * prev[j];
                        }
                    }
                    if (privacy != null) {
                        privacy.mechanism().addNoise(out, accepted.size(), in.noise());
                    }
                } else {
                    for (int i = 0; i < values.length; i++) {
                        float c = (float) accepted.get(i).clip();
                        for (int j = 0; j < out.length; j++) {
                            values[i][j] = c * (values[i][j] - (prev == null ? 0f : prev[j]));
                        }
                    }
                    combine.combine(values, weights, out);
                    if (prev != null) {
                        for (int j = 0; j < out.length; j++) {
                            out[j] += prev[j];
                        }
                    }
                }
                output.write(name, out, !carried);
            }
        }
    }
}
