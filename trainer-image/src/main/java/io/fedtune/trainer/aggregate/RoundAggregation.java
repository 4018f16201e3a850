package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.Combine;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.aggregate.strategy.Strategies;
import io.fedtune.trainer.aggregate.strategy.Strategy;
import io.fedtune.trainer.aggregate.verify.UpdateVerifier;
import io.fedtune.trainer.aggregate.verify.Verdict;
import io.fedtune.trainer.aggregate.verify.Verification;
import io.fedtune.trainer.storage.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * One round's aggregation, in steps that each have their own part: verify every offered update
 * ({@link io.fedtune.trainer.aggregate.verify}), let the {@link Strategy} compare them, weigh and bound them
 * ({@link Contributions}), have the strategy write the global adapter, account for privacy ({@link RoundPrivacy}).
 * Tensor by tensor (module by module for ExactProduct), so memory holds the previous global adapter and one tensor per
 * shard, never every adapter.
 */
public final class RoundAggregation {
    private final AggregationInputs in;
    private final AggregationSpec spec;

    public RoundAggregation(AggregationInputs in) {
        this.in = in;
        this.spec = in.aggregation();
    }

    public RoundReport run() throws RoundFailed, IOException {
        Strategy strategy = Strategies.of(spec.strategy);
        strategy.check(in);
        if (spec.privacy != null && spec.robustness.combine != Combine.Mean) {
            throw new RoundFailed(FailureReason.InvalidTask,
                    "the privacy accounting assumes the mean of clipped updates; use combine Mean");
        }
        long t0 = System.nanoTime();
        Files.createDirectories(in.outputDir());
        Path weightsFile = in.outputDir().resolve(Adapter.WEIGHTS_FILE);
        UpdateVerifier verifier = strategy.verifier(in);
        Optional<List<Verdict>> written = strategy.verifyWhileWriting(in, verifier, weightsFile);
        List<Verdict> verdicts = written.isPresent() ? written.get() : Verification.all(verifier, in.updates());
        List<Verdict.Refused> refused = new ArrayList<>(refusals(verdicts));
        List<Verdict> compared = strategy.compare(in, verifier, accepted(verdicts));
        refused.addAll(refusals(compared));
        RoundPrivacy privacy = RoundPrivacy.of(spec.privacy);
        Contributions contributions = Contributions.of(accepted(compared), spec, privacy);
        refused.addAll(contributions.refused());
        List<Refusal> refusals = refused.stream().map(Verdict.Refused::toRefusal).toList();
        if (contributions.accepted().isEmpty()) {
            throw new RoundFailed(FailureReason.NoValidUpdates, "all " + in.updates().size()
                    + " updates were refused: " + refusals);
        }
        long t1 = System.nanoTime();
        // the fast path wrote the result of all updates: right only if every update counts, unscaled
        boolean stands = written.isPresent() && refused.isEmpty() && contributions.unclipped();
        TruncationEnergy energy = stands ? null : strategy.write(in, contributions, privacy, weightsFile);
        GlobalOutput.config(in.lora(), in.previous()).write(in.outputDir());
        String sha = Sha256.of(weightsFile);
        RoundPrivacy.Epsilon epsilon = privacy == null ? null
                : privacy.account(in.round(), in.participationRate(), in.stateDir());
        long t2 = System.nanoTime();
        return report(contributions, refusals, energy, epsilon, sha, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    private static List<VerifiedUpdate> accepted(List<Verdict> verdicts) {
        List<VerifiedUpdate> accepted = new ArrayList<>();
        for (Verdict v : verdicts) {
            if (v instanceof Verdict.Accepted a) {
                accepted.add(a.update());
            }
        }
        return accepted;
    }

    private static List<Verdict.Refused> refusals(List<Verdict> verdicts) {
        List<Verdict.Refused> refused = new ArrayList<>();
        for (Verdict v : verdicts) {
            if (v instanceof Verdict.Refused r) {
                refused.add(r);
            }
        }
        return refused;
    }

    private RoundReport report(Contributions contributions, List<Refusal> refusals, TruncationEnergy energy,
            RoundPrivacy.Epsilon epsilon, String sha, double verifySeconds, double combineSeconds) throws IOException {
        List<RoundReport.AcceptedShard> accepted = new ArrayList<>();
        for (Contribution c : contributions.accepted()) {
            VerifiedUpdate u = c.update();
            accepted.add(new RoundReport.AcceptedShard(u.offered().shard(), u.offered().samples(), u.rank(), c.weight(),
                    u.norm(), c.clip()));
        }
        long bytes = 0;
        for (OfferedUpdate o : in.updates()) {
            Path f = o.dir().resolve(Adapter.WEIGHTS_FILE);
            bytes += Files.isRegularFile(f) ? Files.size(f) : 0;
        }
        List<Refusal> sorted = new ArrayList<>(refusals);
        sorted.sort(Comparator.comparing(Refusal::shard));
        return new RoundReport(in.round(), spec.strategy.name(), spec.robustness.combine.name(),
                spec.serverOptimizer.type.name(), accepted, sorted, contributions.normBound(),
                energy == null ? null : energy.kept(), energy == null ? null : energy.worstModule(),
                epsilon == null ? null : epsilon.round(), epsilon == null ? null : epsilon.overall(),
                epsilon == null ? null : epsilon.delta(), sha, bytes, verifySeconds, combineSeconds);
    }
}
