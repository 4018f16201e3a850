package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.RefusalReason;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.NormBoundMode;
import io.fedtune.trainer.aggregate.combine.NormBound;
import io.fedtune.trainer.aggregate.combine.ShardWeights;
import io.fedtune.trainer.aggregate.verify.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Who counts in the round and by how much: the norm bound refuses or clips outsized updates, the weighting (uniform
 * under privacy) weighs the rest, privacy clips each to its bound.
 *
 * @param accepted  the updates that count, in offer order
 * @param refused   the norm outliers
 * @param normBound the round's bound, or null when off
 */
public record Contributions(List<Contribution> accepted, List<Verdict.Refused> refused, Double normBound) {

    public static Contributions of(List<VerifiedUpdate> verified, AggregationSpec spec, RoundPrivacy privacy) {
        NormBound.Decision[] decisions = new NormBound(spec.robustness.normBound, spec.robustness.normBoundFactor)
                .decide(verified.stream().mapToDouble(VerifiedUpdate::norm).toArray());
        List<VerifiedUpdate> kept = new ArrayList<>();
        List<Double> scales = new ArrayList<>();
        List<Verdict.Refused> refused = new ArrayList<>();
        for (int i = 0; i < verified.size(); i++) {
            VerifiedUpdate u = verified.get(i);
            if (decisions[i].refused()) {
                refused.add(new Verdict.Refused(u.offered(), RefusalReason.NormOutlier, String.format(Locale.ROOT,
                        "update norm %.4g exceeds %.4g (%s x the round's median)", u.norm(), decisions[i].bound(),
                        spec.robustness.normBoundFactor)));
            } else {
                kept.add(u);
                scales.add(decisions[i].scale());
            }
        }
        double[] weights = kept.isEmpty() ? new double[0] : privacy != null ? ShardWeights.uniform(kept.size())
                : ShardWeights.of(spec.weighting, kept.stream().mapToLong(u -> u.offered().samples()).toArray(),
                        kept.stream().mapToDouble(u -> u.offered().weight()).toArray());
        List<Contribution> accepted = new ArrayList<>();
        for (int i = 0; i < kept.size(); i++) {
            double bounded = kept.get(i).norm() * scales.get(i);
            double clip = scales.get(i) * (privacy == null ? 1.0 : privacy.mechanism().clipScale(bounded));
            accepted.add(new Contribution(kept.get(i), weights[i], clip));
        }
        Double bound = spec.robustness.normBound == NormBoundMode.Off || decisions.length == 0 ? null
                : decisions[0].bound();
        return new Contributions(accepted, refused, bound);
    }

    /** Whether every accepted update counts unscaled. */
    public boolean unclipped() {
        return accepted.stream().allMatch(c -> c.clip() == 1.0);
    }

    public double[] weights() {
        return accepted.stream().mapToDouble(Contribution::weight).toArray();
    }
}
