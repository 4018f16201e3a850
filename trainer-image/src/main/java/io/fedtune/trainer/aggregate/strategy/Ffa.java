package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.aggregate.AdapterLayout;
import io.fedtune.trainer.aggregate.AggregationInputs;
import io.fedtune.trainer.aggregate.Contributions;
import io.fedtune.trainer.aggregate.RoundFailed;
import io.fedtune.trainer.aggregate.RoundPrivacy;
import io.fedtune.trainer.aggregate.TruncationEnergy;
import io.fedtune.trainer.aggregate.VerifiedUpdate;
import io.fedtune.trainer.aggregate.verify.NormOf;
import io.fedtune.trainer.aggregate.verify.UpdateVerifier;
import io.fedtune.trainer.aggregate.verify.Verdict;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** FFA-LoRA: A is frozen and shared by every shard, B is averaged; exact, since B·A is then linear in B. */
final class Ffa implements Strategy {

    @Override
    public void check(AggregationInputs in) throws RoundFailed {
        CoordinateCombination.checkPreviousRank(in);
    }

    @Override
    public UpdateVerifier verifier(AggregationInputs in) {
        return new UpdateVerifier(in.layout(), in.lora().rank, NormOf.B_FACTORS, in.previous());
    }

    /** A is the previous global's, or in round 1 the one most shards share; any other A is refused. */
    @Override
    public List<Verdict> compare(AggregationInputs in, UpdateVerifier verifier, List<VerifiedUpdate> verified) {
        String reference;
        if (in.previous() != null) {
            reference = verifier.frozenADigest(in.previous());
        } else {
            Map<String, Integer> counts = new HashMap<>();
            verified.forEach(u -> counts.merge(u.frozenADigest(), 1, Integer::sum));
            reference = counts.entrySet().stream()
                    .max(Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue)
                            .thenComparing(Map.Entry::getKey, Comparator.reverseOrder()))
                    .map(Map.Entry::getKey).orElse(null);
        }
        return verified.stream().map(u -> u.frozenADigest().equals(reference) ? new Verdict.Accepted(u)
                : (Verdict) new Verdict.Refused(u.offered(), RefusalReason.FrozenAMismatch,
                        "its lora_A factors differ from the shared frozen A (FFA trains B only)")).toList();
    }

    @Override
    public TruncationEnergy write(AggregationInputs in, Contributions contributions, RoundPrivacy privacy, Path weightsFile)
            throws IOException {
        Set<String> frozenA = in.layout().modules().stream().map(AdapterLayout.Module::aName).collect(Collectors.toSet());
        CoordinateCombination.write(in, contributions, privacy, weightsFile, frozenA::contains);
        return null;
    }
}
