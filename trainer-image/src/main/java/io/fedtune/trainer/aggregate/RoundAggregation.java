package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.Refusal;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.AggregationStrategy;
import io.fedtune.api.v1alpha1.Combine;
import io.fedtune.api.v1alpha1.NormBoundMode;
import io.fedtune.api.v1alpha1.ServerOptimizer;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.aggregate.combine.CoordinateCombine;
import io.fedtune.trainer.aggregate.combine.LoraFactors;
import io.fedtune.trainer.aggregate.combine.NormBound;
import io.fedtune.trainer.aggregate.combine.ProductAggregation;
import io.fedtune.trainer.aggregate.combine.RefactoredModule;
import io.fedtune.trainer.aggregate.combine.ShardWeights;
import io.fedtune.trainer.aggregate.optimizer.ServerOptimizerRule;
import io.fedtune.trainer.aggregate.privacy.ClientPrivacy;
import io.fedtune.trainer.aggregate.privacy.RdpAccountant;
import io.fedtune.trainer.safetensors.Dtype;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One round's aggregation: verify every offered update, bound norms, then combine tensor by tensor (module by module
 * for ExactProduct), so memory holds the previous global adapter and one tensor per shard, never every adapter.
 */
public final class RoundAggregation {
    /** Verification threads; fixed, so results do not depend on the machine's core count. */
    private static final int VERIFY_LANES = 2;
    private final RoundInputs in;
    private final AggregationSpec spec;

    public RoundAggregation(RoundInputs in) {
        this.in = in;
        this.spec = in.aggregation();
    }

    public RoundReport run() throws RoundFailed, IOException {
        checkOptions();
        long t0 = System.nanoTime();
        List<Refusal> refused = new ArrayList<>();
        Files.createDirectories(in.outputDir());
        Path weightsFile = in.outputDir().resolve(Adapter.WEIGHTS_FILE);
        Object[] onePass = plainMean() ? writeMeanInOnePass(weightsFile) : null;
        List<VerifiedUpdate> verified = onePass != null ? split(onePass, refused) : verifyAll(refused);
        if (spec.strategy == AggregationStrategy.FFA) {
            verified = keepSharedFrozenA(verified, refused);
        }
        NormBound.Decision[] decisions = new NormBound(spec.robustness.normBound, spec.robustness.normBoundFactor)
                .decide(verified.stream().mapToDouble(VerifiedUpdate::norm).toArray());
        List<VerifiedUpdate> accepted = new ArrayList<>();
        List<Double> scales = new ArrayList<>();
        for (int i = 0; i < verified.size(); i++) {
            VerifiedUpdate u = verified.get(i);
            if (decisions[i].refused()) {
                refused.add(new Refusal(u.offered().shard(), RefusalReason.NormOutlier.name(), String.format(
                        java.util.Locale.ROOT, "update norm %.4g exceeds %.4g (%s x the round's median)", u.norm(),
                        decisions[i].bound(), spec.robustness.normBoundFactor)));
            } else {
                accepted.add(u);
                scales.add(decisions[i].scale());
            }
        }
        if (accepted.isEmpty()) {
            throw new RoundFailed("NoValidUpdates", "all " + in.updates().size() + " updates were refused: " + refused);
        }
        ClientPrivacy privacy = spec.privacy == null ? null
                : new ClientPrivacy(spec.privacy.clipNorm, spec.privacy.noiseMultiplier);
        double[] weights = privacy != null ? ShardWeights.uniform(accepted.size()) : ShardWeights.of(spec.weighting,
                accepted.stream().mapToLong(u -> u.offered().samples()).toArray(),
                accepted.stream().mapToDouble(u -> u.offered().weight()).toArray());
        double[] clip = new double[accepted.size()];
        for (int i = 0; i < clip.length; i++) {
            double bounded = accepted.get(i).norm() * scales.get(i);
            clip[i] = scales.get(i) * (privacy == null ? 1.0 : privacy.clipScale(bounded));
        }
        long t1 = System.nanoTime();
        // the one pass wrote the mean of all updates: right only if every update counts, unscaled
        boolean untouched = refused.isEmpty() && java.util.Arrays.stream(clip).allMatch(c -> c == 1.0);
        double[] energy = spec.strategy == AggregationStrategy.ExactProduct
                ? writeProduct(accepted, weights, clip, weightsFile)
                : onePass != null && untouched ? null
                : writeCoordinatewise(accepted, weights, clip, privacy, weightsFile);
        adapterConfig().write(in.outputDir());
        String sha = sha256(weightsFile);

        Double epsRound = null;
        Double eps = null;
        if (privacy != null) {
            double[] perRound = RdpAccountant.rdp(in.participationRate(), privacy.noiseMultiplier());
            PrivacyLedger before = PrivacyLedger.before(in.round(),
                    in.stateDir().resolve(PrivacyLedger.fileName(in.round() - 1)), perRound);
            PrivacyLedger after = before.plus(perRound);
            after.write(in.stateDir().resolve(PrivacyLedger.fileName(in.round())));
            epsRound = RdpAccountant.epsilon(perRound, spec.privacy.delta);
            eps = RdpAccountant.epsilon(after.rdp(), spec.privacy.delta);
        }
        long t2 = System.nanoTime();

        List<RoundReport.AcceptedShard> acceptedShards = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < accepted.size(); i++) {
            VerifiedUpdate u = accepted.get(i);
            acceptedShards.add(new RoundReport.AcceptedShard(u.offered().shard(), u.offered().samples(), u.rank(),
                    weights[i], u.norm(), clip[i]));
        }
        for (OfferedUpdate o : in.updates()) {
            Path f = o.dir().resolve(Adapter.WEIGHTS_FILE);
            bytes += Files.isRegularFile(f) ? Files.size(f) : 0;
        }
        refused.sort(Comparator.comparing(Refusal::shard));
        Double bound = spec.robustness.normBound == NormBoundMode.Off || decisions.length == 0 ? null : decisions[0].bound();
        return new RoundReport(in.round(), spec.strategy.name(), spec.robustness.combine.name(),
                spec.serverOptimizer.type.name(), acceptedShards, refused, bound,
                energy == null ? null : energy[0], energy == null ? null : energy[1], epsRound, eps,
                privacy == null ? null : spec.privacy.delta, sha, bytes, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    /** Plain FedAvg, where the mean of all updates is the likely result and can be written while verifying. */
    private boolean plainMean() {
        return spec.strategy == AggregationStrategy.FedAvg && spec.robustness.combine == Combine.Mean
                && spec.privacy == null && !in.updates().isEmpty();
    }

    /**
     * Verifies every update while writing the mean of them all, reading each file once; returns each update's
     * {@link VerifiedUpdate} or {@link Refusal}, or null (nothing written) where {@link OnePassMean} does not apply.
     */
    private Object[] writeMeanInOnePass(Path weightsFile) throws IOException {
        try (OnePassMean pass = new OnePassMean(verifier(), in.updates(), rawWeights(in.updates()))) {
            if (!pass.open()) {
                return null;
            }
            List<TensorSpec> specs = outputSpecs();
            try (CoordinateOutput out = coordinateOutput(specs, weightsFile)) {
                pass.writeMean(specs, out);
            }
            return pass.verdicts();
        }
    }

    private static List<VerifiedUpdate> split(Object[] verdicts, List<Refusal> refused) {
        List<VerifiedUpdate> verified = new ArrayList<>();
        for (Object r : verdicts) {
            if (r instanceof VerifiedUpdate v) {
                verified.add(v);
            } else {
                refused.add((Refusal) r);
            }
        }
        return verified;
    }

    /** Combinations the math does not support; the CRD rejects some, the rest are caught here. */
    private void checkOptions() throws RoundFailed {
        boolean product = spec.strategy == AggregationStrategy.ExactProduct;
        if (product && spec.robustness.combine != Combine.Mean) {
            throw new RoundFailed("InvalidTask", "TrimmedMean and Median work coordinate-wise: use FedAvg or FFA");
        }
        if (product && spec.serverOptimizer.type != ServerOptimizer.None) {
            throw new RoundFailed("InvalidTask", "server optimizers act on factor coordinates, which ExactProduct "
                    + "re-factors every round: use FedAvg or FFA with " + spec.serverOptimizer.type);
        }
        if (product && spec.privacy != null) {
            throw new RoundFailed("InvalidTask", "privacy noise must be added to the transmitted coordinates: use FedAvg or FFA");
        }
        if (spec.privacy != null && spec.robustness.combine != Combine.Mean) {
            throw new RoundFailed("InvalidTask", "the privacy accounting assumes the mean of clipped updates; use combine Mean");
        }
        if (!product && in.previous() != null && in.previous().config().r() != in.lora().rank) {
            throw new RoundFailed("InvalidTask", "the previous global adapter has rank " + in.previous().config().r()
                    + ", the run " + in.lora().rank);
        }
    }

    private UpdateVerifier verifier() {
        AggregationStrategy s = spec.strategy;
        return new UpdateVerifier(in.layout(),
                s == AggregationStrategy.ExactProduct ? null : in.lora().rank,
                s == AggregationStrategy.FedAvg ? UpdateVerifier.NormOf.FACTORS
                        : s == AggregationStrategy.FFA ? UpdateVerifier.NormOf.B_FACTORS : UpdateVerifier.NormOf.PRODUCT,
                in.previous());
    }

    private List<VerifiedUpdate> verifyAll(List<Refusal> refused) throws IOException {
        UpdateVerifier verifier = verifier();
        List<OfferedUpdate> updates = in.updates();
        int lanes = Math.min(VERIFY_LANES, Math.max(1, updates.size()));
        ExecutorService pool = Executors.newFixedThreadPool(lanes);
        Object[] results = new Object[updates.size()];
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int lane = 0; lane < lanes; lane++) {
                int l = lane;
                running.add(pool.submit(() -> {
                    for (int i = l; i < updates.size(); i += lanes) {
                        OfferedUpdate o = updates.get(i);
                        try {
                            results[i] = verifier.verify(o);
                        } catch (UpdateRefused r) {
                            results[i] = new Refusal(o.shard(), r.reason().name(), r.getMessage());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                WorkerResult.await(f);
            }
        } finally {
            pool.shutdownNow();
        }
        return split(results, refused);
    }

    /** Samples (or 1) times the shard's weight, before normalisation; the same numbers {@link ShardWeights} normalises. */
    private double[] rawWeights(List<OfferedUpdate> updates) {
        double[] w = new double[updates.size()];
        for (int i = 0; i < w.length; i++) {
            OfferedUpdate o = updates.get(i);
            w[i] = (spec.weighting == io.fedtune.api.v1alpha1.Weighting.Uniform ? 1.0 : o.samples()) * o.weight();
        }
        return w;
    }

    /** FFA: A is the previous global's, or in round 1 the one most shards share; any other A is refused. */
    private List<VerifiedUpdate> keepSharedFrozenA(List<VerifiedUpdate> verified, List<Refusal> refused) {
        String reference;
        if (in.previous() != null) {
            MessageDigest sha = UpdateVerifier.sha256();
            in.layout().modules().stream().map(AdapterLayout.Module::aName).sorted().forEach(name ->
                    sha.update(UpdateVerifier.sha256().digest(UpdateVerifier.floatBytes(in.previous().tensor(name)))));
            reference = HexFormat.of().formatHex(sha.digest());
        } else {
            Map<String, Integer> counts = new HashMap<>();
            verified.forEach(u -> counts.merge(u.frozenADigest(), 1, Integer::sum));
            reference = counts.entrySet().stream()
                    .max(Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue)
                            .thenComparing(Map.Entry::getKey, Comparator.reverseOrder()))
                    .map(Map.Entry::getKey).orElse(null);
        }
        List<VerifiedUpdate> kept = new ArrayList<>();
        for (VerifiedUpdate u : verified) {
            if (u.frozenADigest().equals(reference)) {
                kept.add(u);
            } else {
                refused.add(new Refusal(u.offered().shard(), RefusalReason.FrozenAMismatch.name(),
                        "its lora_A factors differ from the shared frozen A (FFA trains B only)"));
            }
        }
        return kept;
    }

    private List<TensorSpec> outputSpecs() {
        int r = in.lora().rank;
        List<TensorSpec> specs = new ArrayList<>();
        for (AdapterLayout.Module m : in.layout().modules()) {
            specs.add(new TensorSpec(m.aName(), Dtype.F32, new long[] {r, m.in()}));
            specs.add(new TensorSpec(m.bName(), Dtype.F32, new long[] {m.out(), r}));
        }
        specs.sort(Comparator.comparing(TensorSpec::name));
        return specs;
    }

    private AdapterConfig adapterConfig() {
        List<LoraTarget> targets = new ArrayList<>();
        for (TargetModule t : in.lora().targetModules) {
            targets.add(LoraTarget.fromModuleName(t.moduleName()));
        }
        return new AdapterConfig(in.lora().rank, in.lora().alpha, in.lora().dropout, targets,
                in.previous() == null ? null : in.previous().config().baseModelNameOrPath());
    }

    private static Map<String, String> metadata() {
        return Map.of("format", "pt");
    }

    private CoordinateOutput coordinateOutput(List<TensorSpec> specs, Path weightsFile) throws IOException {
        ServerOptimizerRule rule = in.previous() == null ? null : ServerOptimizerRule.of(spec.serverOptimizer);
        OptimizerState state = rule == null ? null : OptimizerState.open(
                in.stateDir().resolve(OptimizerState.fileName(in.round() - 1)),
                in.stateDir().resolve(OptimizerState.fileName(in.round())), specs, rule, spec.serverOptimizer.type.name(),
                in.round());
        try {
            return new CoordinateOutput(weightsFile, specs, metadata(), rule, state, in.previous());
        } catch (IOException | RuntimeException e) {
            if (state != null) {
                state.close();
            }
            throw e;
        }
    }

    /** FedAvg and FFA: new = prev + combine(c_i·(x_i − prev)) [+ noise], then the server optimizer, per tensor. */
    private double[] writeCoordinatewise(List<VerifiedUpdate> accepted, double[] weights, double[] clip,
            ClientPrivacy privacy, Path weightsFile) throws IOException {
        List<TensorSpec> specs = outputSpecs();
        CoordinateCombine combine = new CoordinateCombine(spec.robustness.combine, spec.robustness.trimFraction);
        Map<String, Boolean> isA = new HashMap<>();
        in.layout().modules().forEach(m -> {
            isA.put(m.aName(), true);
            isA.put(m.bName(), false);
        });
        boolean ffa = spec.strategy == AggregationStrategy.FFA;
        double[] coefficients = new double[accepted.size()];
        double coefficientSum = 0;
        for (int i = 0; i < coefficients.length; i++) {
            coefficients[i] = weights[i] * clip[i];
            coefficientSum += coefficients[i];
        }
        List<SafetensorsReader> readers = open(accepted);
        try (CoordinateOutput output = coordinateOutput(specs, weightsFile)) {
            float[][] values = new float[accepted.size()][];
            for (TensorSpec t : specs) {
                String name = t.name();
                float[] prev = in.previous() == null ? null : in.previous().tensor(name);
                for (int i = 0; i < values.length; i++) {
                    values[i] = readers.get(i).readFloats(name);
                }
                float[] out = new float[values[0].length];
                if (ffa && isA.get(name)) {
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
                        privacy.addNoise(out, accepted.size(), in.noise());
                    }
                } else {
                    for (int i = 0; i < values.length; i++) {
                        float c = (float) clip[i];
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
                output.write(name, out, !(ffa && isA.get(name)));
            }
        } finally {
            close(readers);
        }
        return null;
    }

    /** ExactProduct: per module, Σ c_i s_i B_i A_i (+ the previous global's share where clipping left one), re-factored. */
    private double[] writeProduct(List<VerifiedUpdate> accepted, double[] weights, double[] clip, Path weightsFile)
            throws IOException {
        List<TensorSpec> specs = outputSpecs();
        double targetScale = in.lora().alpha / in.lora().rank;
        List<SafetensorsReader> readers = open(accepted);
        double[] energy = {0, 0, 1}; // kept, total, worst module's kept fraction
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        // modules are independent: a window of them is re-factored in parallel and written in order
        java.util.ArrayDeque<Future<RefactoredModule>> window = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<AdapterLayout.Module> windowModules = new java.util.ArrayDeque<>();
        try (SafetensorsWriter writer = SafetensorsWriter.create(weightsFile, specs, metadata())) {
            int moduleIndex = 0;
            for (AdapterLayout.Module m : in.layout().modules()) {
                List<LoraFactors> factors = new ArrayList<>();
                List<Double> coefficients = new ArrayList<>();
                double sum = 0;
                for (int i = 0; i < accepted.size(); i++) {
                    VerifiedUpdate u = accepted.get(i);
                    factors.add(new LoraFactors(readers.get(i).readFloats(m.aName()), readers.get(i).readFloats(m.bName()),
                            u.rank(), m.in(), m.out(), u.scale()));
                    coefficients.add(weights[i] * clip[i]);
                    sum += weights[i] * clip[i];
                }
                if (in.previous() != null && sum < 1 - 1e-12) {
                    factors.add(in.previous().factors(m));
                    coefficients.add(1 - sum);
                }
                double[] c = coefficients.stream().mapToDouble(Double::doubleValue).toArray();
                long seed = in.seed() * 31 + moduleIndex++;
                window.add(pool.submit(() -> ProductAggregation.aggregate(factors, c, in.lora().rank, targetScale, seed)));
                windowModules.add(m);
                if (window.size() >= threads) {
                    writeOldest(window, windowModules, writer, energy);
                }
            }
            while (!window.isEmpty()) {
                writeOldest(window, windowModules, writer, energy);
            }
        } finally {
            pool.shutdownNow();
            close(readers);
        }
        return new double[] {energy[1] == 0 ? 1.0 : energy[0] / energy[1], energy[2]};
    }

    /** Writes the oldest re-factored module of the window (A and B of a module are adjacent in name order). */
    private static void writeOldest(java.util.ArrayDeque<Future<RefactoredModule>> window,
                                    java.util.ArrayDeque<AdapterLayout.Module> modules, SafetensorsWriter writer,
                                    double[] energy) throws IOException {
        RefactoredModule result = WorkerResult.await(window.poll());
        AdapterLayout.Module done = modules.poll();
        writer.write(done.aName(), result.factors().a());
        writer.write(done.bName(), result.factors().b());
        energy[0] += result.keptEnergy();
        energy[1] += result.totalEnergy();
        energy[2] = Math.min(energy[2], result.keptFraction());
    }

    private static List<SafetensorsReader> open(List<VerifiedUpdate> accepted) throws IOException {
        List<SafetensorsReader> readers = new ArrayList<>();
        try {
            for (VerifiedUpdate u : accepted) {
                readers.add(SafetensorsReader.open(u.weights()));
            }
        } catch (IOException e) {
            close(readers);
            throw e;
        }
        return readers;
    }

    private static void close(List<SafetensorsReader> readers) {
        for (SafetensorsReader r : readers) {
            try {
                r.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest sha = UpdateVerifier.sha256();
        try (InputStream s = new DigestInputStream(Files.newInputStream(file), sha)) {
            s.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
