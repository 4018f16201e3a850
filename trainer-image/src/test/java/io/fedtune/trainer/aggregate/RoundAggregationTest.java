package io.fedtune.trainer.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.RefusalReason;
import io.fedtune.api.v1alpha1.AggregationSpec;
import io.fedtune.api.v1alpha1.AggregationStrategy;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.NormBoundMode;
import io.fedtune.api.v1alpha1.PrivacySpec;
import io.fedtune.api.v1alpha1.ServerOptimizer;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.api.v1alpha1.Weighting;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.aggregate.optimizer.MomentState;
import io.fedtune.trainer.aggregate.optimizer.ServerOptimizerRule;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.storage.Sha256;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundAggregationTest {
    @TempDir
    Path tmp;

    private final AdapterLayout layout = AdapterFixture.layout();
    private final List<Map<String, float[]>> shardTensors = new ArrayList<>();
    private final List<OfferedUpdate> offered = new ArrayList<>();

    private LoraSpec lora(int rank) {
        LoraSpec l = new LoraSpec();
        l.rank = rank;
        l.alpha = 2.0 * rank;
        l.targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
        return l;
    }

    private OfferedUpdate addShard(String name, int rank, long samples, Map<String, float[]> tensors) throws IOException {
        Path dir = tmp.resolve("shards").resolve(name);
        String sha = AdapterFixture.write(dir, layout, rank, 2.0 * rank, tensors);
        OfferedUpdate o = new OfferedUpdate(name, dir, sha, samples, 1.0, rank);
        shardTensors.add(tensors);
        offered.add(o);
        return o;
    }

    private void addShards(int n, int rank) throws IOException {
        for (int i = 0; i < n; i++) {
            addShard("shard-" + i, rank, 100L * (i + 1), AdapterFixture.random(layout, rank, 100 + i));
        }
    }

    private RoundReport aggregate(int round, AggregationSpec spec, LoraSpec lora, GlobalAdapter previous, String out)
            throws Exception {
        return new RoundAggregation(new AggregationInputs(round, offered, layout, previous, lora, spec, 0.5, 9,
                tmp.resolve("state"), new SplittableRandom(5), tmp.resolve(out))).run();
    }

    private Map<String, float[]> read(String out) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(tmp.resolve(out).resolve(Adapter.WEIGHTS_FILE))) {
            Map<String, float[]> m = new java.util.TreeMap<>();
            for (String n : r.names()) {
                m.put(n, r.readFloats(n));
            }
            return m;
        }
    }

    /** Plain-loop weighted average of the listed shards' tensors. */
    private Map<String, double[]> weightedAverage(List<Integer> shards, double[] rawWeights) {
        Map<String, double[]> avg = new java.util.TreeMap<>();
        double total = 0;
        for (int s : shards) {
            total += rawWeights[s];
        }
        for (String name : shardTensors.get(0).keySet()) {
            double[] acc = new double[shardTensors.get(shards.get(0)).get(name).length];
            for (int s : shards) {
                float[] x = shardTensors.get(s).get(name);
                for (int j = 0; j < acc.length; j++) {
                    acc[j] += rawWeights[s] / total * x[j];
                }
            }
            avg.put(name, acc);
        }
        return avg;
    }

    private void assertOutputIs(Map<String, double[]> expected, String out) throws IOException {
        Map<String, float[]> actual = read(out);
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String name : expected.keySet()) {
            for (int j = 0; j < expected.get(name).length; j++) {
                assertThat((double) actual.get(name)[j]).as(name).isCloseTo(expected.get(name)[j], within(1e-6));
            }
        }
    }

    private static AggregationSpec fedAvg(Weighting weighting) {
        AggregationSpec spec = new AggregationSpec();
        spec.weighting = weighting;
        return spec;
    }

    @Test
    void fedAvgBySamplesWritesTheWeightedAverageAndItsSha256() throws Exception {
        addShards(3, 2);
        RoundReport report = aggregate(1, fedAvg(Weighting.Samples), lora(2), null, "global");
        assertOutputIs(weightedAverage(List.of(0, 1, 2), new double[] {100, 200, 300}), "global");
        assertThat(report.accepted()).extracting(RoundReport.AcceptedShard::weight)
                .containsExactly(1.0 / 6, 2.0 / 6, 3.0 / 6);
        assertThat(report.refused()).isEmpty();
        assertThat(report.sha256()).isEqualTo(Sha256.of(tmp.resolve("global").resolve(Adapter.WEIGHTS_FILE)));
        assertThat(tmp.resolve("global").resolve("adapter_config.json")).exists();
    }

    @Test
    void fedAvgUniform() throws Exception {
        addShards(3, 2);
        aggregate(1, fedAvg(Weighting.Uniform), lora(2), null, "global");
        assertOutputIs(weightedAverage(List.of(0, 1, 2), new double[] {1, 1, 1}), "global");
    }

    /** Each refusal test: shard-1 is damaged; it must be refused with the reason and left out of the average. */
    private void assertRefused(RefusalReason reason, int runRank) throws Exception {
        RoundReport report = aggregate(1, fedAvg(Weighting.Uniform), lora(runRank), null, "global");
        assertThat(report.refused()).extracting(Refusal::shard, Refusal::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("shard-1", reason.name()));
        assertThat(report.refused().get(0).message()).isNotBlank();
        assertThat(report.accepted()).extracting(RoundReport.AcceptedShard::shard).containsExactly("shard-0", "shard-2");
        assertOutputIs(weightedAverage(List.of(0, 2), new double[] {1, 1, 1}), "global");
    }

    @Test
    void refusesAFlippedBit() throws Exception {
        addShards(3, 2);
        Path f = offered.get(1).dir().resolve(Adapter.WEIGHTS_FILE);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            long pos = raf.length() - 5;
            raf.seek(pos);
            int b = raf.read();
            raf.seek(pos);
            raf.write(b ^ 0x10);
        }
        assertRefused(RefusalReason.ChecksumMismatch, 2);
    }

    @Test
    void refusesATruncatedFileEvenWhenItsChecksumWasTakenAfterTruncation() throws Exception {
        addShards(3, 2);
        Path f = offered.get(1).dir().resolve(Adapter.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        String sha = AdapterFixture.rewriteManifest(offered.get(1).dir());
        OfferedUpdate o = offered.get(1);
        offered.set(1, new OfferedUpdate(o.shard(), o.dir(), sha, o.samples(), o.weight(), o.rank()));
        assertRefused(RefusalReason.Malformed, 2);
    }

    @Test
    void refusesAManifestOverItsCapUnread() throws Exception {
        addShards(3, 2);
        try (RandomAccessFile raf = new RandomAccessFile(offered.get(1).dir().resolve("manifest.json").toFile(), "rw")) {
            raf.setLength(5L * 1024 * 1024);
        }
        RoundReport report = aggregate(1, fedAvg(Weighting.Uniform), lora(2), null, "global");
        assertThat(report.refused()).extracting(Refusal::shard, Refusal::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("shard-1", RefusalReason.Malformed.name()));
        assertThat(report.refused().get(0).message()).contains("manifest.json").contains("over the cap of 4194304 bytes");
    }

    @Test
    void refusesANaN() throws Exception {
        addShard("shard-0", 2, 10, AdapterFixture.random(layout, 2, 1));
        Map<String, float[]> bad = AdapterFixture.random(layout, 2, 2);
        bad.get(layout.modules().get(1).bName())[3] = Float.NaN;
        addShard("shard-1", 2, 10, bad);
        addShard("shard-2", 2, 10, AdapterFixture.random(layout, 2, 3));
        assertRefused(RefusalReason.NonFinite, 2);
    }

    @Test
    void refusesAWrongShape() throws Exception {
        addShard("shard-0", 2, 10, AdapterFixture.random(layout, 2, 1));
        AdapterLayout wide = new AdapterLayout(layout.modules().stream()
                .map(m -> new AdapterLayout.Module(m.aName(), m.bName(), m.in() + 1, m.out())).toList());
        Map<String, float[]> bad = AdapterFixture.random(wide, 2, 2);
        Path dir = tmp.resolve("shards/shard-1");
        String sha = AdapterFixture.write(dir, wide, 2, 4, bad);
        shardTensors.add(bad);
        offered.add(new OfferedUpdate("shard-1", dir, sha, 10, 1, 2));
        addShard("shard-2", 2, 10, AdapterFixture.random(layout, 2, 3));
        assertRefused(RefusalReason.WrongShape, 2);
    }

    @Test
    void refusesAWrongRank() throws Exception {
        addShard("shard-0", 2, 10, AdapterFixture.random(layout, 2, 1));
        addShard("shard-1", 4, 10, AdapterFixture.random(layout, 4, 2));
        addShard("shard-2", 2, 10, AdapterFixture.random(layout, 2, 3));
        assertRefused(RefusalReason.WrongRank, 2);
    }

    @Test
    void refusesAnOutsizedNorm() throws Exception {
        addShard("shard-0", 2, 10, AdapterFixture.random(layout, 2, 1));
        Map<String, float[]> big = AdapterFixture.random(layout, 2, 2);
        big.values().forEach(t -> {
            for (int j = 0; j < t.length; j++) {
                t[j] *= 1000;
            }
        });
        addShard("shard-1", 2, 10, big);
        addShard("shard-2", 2, 10, AdapterFixture.random(layout, 2, 3));
        assertRefused(RefusalReason.NormOutlier, 2);
    }

    @Test
    void clipModeScalesAnOutsizedUpdateInsteadOfRefusingIt() throws Exception {
        addShards(3, 2);
        AggregationSpec spec = fedAvg(Weighting.Uniform);
        spec.robustness.normBound = NormBoundMode.Clip;
        spec.robustness.normBoundFactor = 1.0;
        RoundReport report = aggregate(1, spec, lora(2), null, "global");
        assertThat(report.refused()).isEmpty();
        double bound = report.normBound();
        for (RoundReport.AcceptedShard s : report.accepted()) {
            assertThat(s.norm() * s.clipScale()).isLessThanOrEqualTo(bound * (1 + 1e-12));
        }
        assertThat(report.accepted()).anySatisfy(s -> assertThat(s.clipScale()).isLessThan(1));
    }

    @Test
    void noValidUpdatesFailsTheRound() throws Exception {
        addShard("shard-0", 4, 10, AdapterFixture.random(layout, 4, 1));
        assertThatThrownBy(() -> aggregate(1, fedAvg(Weighting.Uniform), lora(2), null, "global"))
                .isInstanceOf(RoundFailed.class)
                .satisfies(e -> assertThat(((RoundFailed) e).reason()).isEqualTo(FailureReason.NoValidUpdates));
    }

    @Test
    void ffaAveragesBKeepsTheSharedAAndRefusesAChangedA() throws Exception {
        Map<String, float[]> shared = AdapterFixture.random(layout, 2, 77);
        for (int i = 0; i < 3; i++) {
            Map<String, float[]> t = AdapterFixture.random(layout, 2, 200 + i);
            for (AdapterLayout.Module m : layout.modules()) {
                t.put(m.aName(), shared.get(m.aName()).clone());
            }
            if (i == 1) {
                t.get(layout.modules().get(0).aName())[0] += 0.5f;
            }
            addShard("shard-" + i, 2, 10, t);
        }
        AggregationSpec spec = fedAvg(Weighting.Uniform);
        spec.strategy = AggregationStrategy.FFA;
        RoundReport report = aggregate(1, spec, lora(2), null, "global");
        assertThat(report.refused()).extracting(Refusal::reason).containsExactly("FrozenAMismatch");
        Map<String, double[]> expected = weightedAverage(List.of(0, 2), new double[] {1, 1, 1});
        assertOutputIs(expected, "global");
        Map<String, float[]> out = read("global");
        for (AdapterLayout.Module m : layout.modules()) {
            assertThat(out.get(m.aName())).containsExactly(shared.get(m.aName()));
        }
    }

    @Test
    void exactProductOfHeterogeneousRanksReproducesTheWeightedSumOfProducts() throws Exception {
        addShard("shard-0", 1, 100, AdapterFixture.random(layout, 1, 1));
        addShard("shard-1", 2, 300, AdapterFixture.random(layout, 2, 2));
        addShard("shard-2", 3, 600, AdapterFixture.random(layout, 3, 3));
        AggregationSpec spec = fedAvg(Weighting.Samples);
        spec.strategy = AggregationStrategy.ExactProduct;
        LoraSpec lora = lora(6);
        RoundReport report = aggregate(1, spec, lora, null, "global");
        assertThat(report.truncationEnergy()).isCloseTo(1.0, within(1e-9));
        Map<String, float[]> out = read("global");
        int[] ranks = {1, 2, 3};
        double[] w = {0.1, 0.3, 0.6};
        for (AdapterLayout.Module m : layout.modules()) {
            for (int i = 0; i < m.out(); i++) {
                for (int j = 0; j < m.in(); j++) {
                    double expected = 0;
                    for (int s = 0; s < 3; s++) {
                        // each shard's alpha is 2·rank, so its scale alpha/r is 2
                        expected += w[s] * 2.0 * dot(shardTensors.get(s), m, ranks[s], i, j);
                    }
                    double actual = 2.0 * dot(out, m, 6, i, j);
                    assertThat(actual).isCloseTo(expected, within(1e-5));
                }
            }
        }
    }

    @Test
    void exactProductTruncatesToTheRunsRankAndReportsEnergy() throws Exception {
        addShards(3, 2);
        AggregationSpec spec = fedAvg(Weighting.Samples);
        spec.strategy = AggregationStrategy.ExactProduct;
        RoundReport report = aggregate(1, spec, lora(2), null, "global");
        assertThat(report.truncationEnergy()).isLessThan(1.0).isGreaterThan(0.3);
        assertThat(report.worstModuleEnergy()).isLessThanOrEqualTo(report.truncationEnergy());
    }

    private static double dot(Map<String, float[]> t, AdapterLayout.Module m, int rank, int i, int j) {
        double s = 0;
        for (int k = 0; k < rank; k++) {
            s += (double) t.get(m.bName())[i * rank + k] * t.get(m.aName())[k * m.in() + j];
        }
        return s;
    }

    @Test
    void serverOptimizerStateCarriesAcrossRoundsThroughItsFile() throws Exception {
        addShards(3, 2);
        Path prevDir = tmp.resolve("round-1");
        Map<String, float[]> prev = AdapterFixture.random(layout, 2, 999);
        AdapterFixture.write(prevDir, layout, 2, 4, prev);
        GlobalAdapter previous = GlobalAdapter.read(prevDir);
        AggregationSpec spec = fedAvg(Weighting.Uniform);
        spec.serverOptimizer.type = ServerOptimizer.FedAdam;
        spec.serverOptimizer.learningRate = 0.1;
        aggregate(2, spec, lora(2), previous, "round-2");
        assertThat(tmp.resolve("state").resolve(OptimizerState.fileName(2))).exists();
        GlobalAdapter second = GlobalAdapter.read(tmp.resolve("round-2"));
        aggregate(3, spec, lora(2), second, "round-3");
        Map<String, float[]> third = read("round-3");

        // the same two steps in memory, from the plain average of the shards
        ServerOptimizerRule rule = ServerOptimizerRule.of(spec.serverOptimizer);
        Map<String, double[]> avg = weightedAverage(List.of(0, 1, 2), new double[] {1, 1, 1});
        for (String name : avg.keySet()) {
            float[] agg = new float[avg.get(name).length];
            for (int j = 0; j < agg.length; j++) {
                agg[j] = (float) avg.get(name)[j];
            }
            MomentState state = rule.initialState(agg.length);
            float[] x1 = new float[agg.length];
            rule.step(prev.get(name), agg, state, x1);
            float[] x2 = new float[agg.length];
            rule.step(x1, agg, state, x2);
            for (int j = 0; j < agg.length; j++) {
                assertThat(third.get(name)[j]).isCloseTo(x2[j], within(1e-5f));
            }
        }
    }

    @Test
    void privacyClipsAddsNoiseAndComposesEpsilonOverRounds() throws Exception {
        addShards(4, 2);
        AggregationSpec spec = fedAvg(Weighting.Samples);
        spec.robustness.normBound = NormBoundMode.Off;
        spec.privacy = new PrivacySpec();
        spec.privacy.clipNorm = 0.05;
        spec.privacy.noiseMultiplier = 1.0;
        RoundReport first = aggregate(1, spec, lora(2), null, "round-1");
        assertThat(first.accepted()).allSatisfy(s -> {
            assertThat(s.weight()).isEqualTo(0.25);
            assertThat(s.norm() * s.clipScale()).isCloseTo(0.05, within(1e-9));
        });
        RoundReport second = aggregate(2, spec, lora(2), null, "round-2");
        assertThat(first.epsilonRound()).isPositive();
        assertThat(second.epsilonRound()).isCloseTo(first.epsilonRound(), within(1e-12));
        assertThat(second.epsilon()).isGreaterThan(first.epsilon());
        assertThat(tmp.resolve("state").resolve(PrivacyLedger.fileName(2))).exists();
    }

    @Test
    void exactProductRejectsAServerOptimizer() throws Exception {
        addShards(2, 2);
        AggregationSpec spec = fedAvg(Weighting.Samples);
        spec.strategy = AggregationStrategy.ExactProduct;
        spec.serverOptimizer.type = ServerOptimizer.FedYogi;
        assertThatThrownBy(() -> aggregate(1, spec, lora(2), null, "global")).isInstanceOf(RoundFailed.class);
    }
}
