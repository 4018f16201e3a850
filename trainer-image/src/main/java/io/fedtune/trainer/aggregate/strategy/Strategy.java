package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.trainer.aggregate.AggregationInputs;
import io.fedtune.trainer.aggregate.Contributions;
import io.fedtune.trainer.aggregate.RoundFailed;
import io.fedtune.trainer.aggregate.RoundPrivacy;
import io.fedtune.trainer.aggregate.TruncationEnergy;
import io.fedtune.trainer.aggregate.VerifiedUpdate;
import io.fedtune.trainer.aggregate.verify.UpdateVerifier;
import io.fedtune.trainer.aggregate.verify.Verdict;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * How a round's accepted updates become the next global adapter (spec.aggregation.strategy). The round
 * ({@link io.fedtune.trainer.aggregate.RoundAggregation}) verifies the updates as {@link #verifier} says, lets the
 * strategy {@link #compare} them, weighs and bounds them, and then has the strategy {@link #write} the weights.
 * Register an implementation in {@link Strategies}.
 */
public interface Strategy {

    /** Fails the round with InvalidTask where the task asks for options this strategy's math does not support. */
    void check(AggregationInputs in) throws RoundFailed;

    /** How each update is verified: the rank it must have, and what its norm measures. */
    UpdateVerifier verifier(AggregationInputs in);

    /**
     * A fast path: the verdicts on every update, reading each once while writing the global adapter as if all of them
     * count; empty (nothing written) where the strategy has none or it does not apply. What it wrote stands only where
     * every update is then accepted unclipped; otherwise the round calls {@link #write}.
     */
    default Optional<List<Verdict>> verifyWhileWriting(AggregationInputs in, UpdateVerifier verifier, Path weightsFile)
            throws IOException {
        return Optional.empty();
    }

    /** Verdicts on updates that each passed alone but must agree with each other (FFA's shared A); all accepted by default. */
    default List<Verdict> compare(AggregationInputs in, UpdateVerifier verifier, List<VerifiedUpdate> verified) {
        return verified.stream().<Verdict>map(Verdict.Accepted::new).toList();
    }

    /**
     * Writes the global adapter's weights (safetensors, tensors in name order) from the accepted contributions.
     *
     * @param privacy the round's privacy, or null
     * @return what truncation kept, where the strategy truncates; else null
     */
    TruncationEnergy write(AggregationInputs in, Contributions contributions, RoundPrivacy privacy, Path weightsFile)
            throws IOException;
}
