package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.RefusedUpdate;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.operator.round.DeviceUse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Run status stays bounded at 1,000 shards per round: history keeps counts and at most NAMES_LIMIT names per list. */
class StatusSizeTest {

    /** 1,000 shard names of the longest legal length (63). */
    private static List<String> names(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> (prefix + "-" + i + "-").repeat(20).substring(0, 60) + String.format("%03d", i)).toList();
    }

    @Test
    void historyKeepsCountsAndTheFirstNames() {
        RoundSummary summary = new RoundSummary();
        summary.round = 1;
        summary.outcome = RoundOutcome.Completed;
        summary.participants = new ArrayList<>(names("p", 1000));
        summary.failed = new ArrayList<>(names("f", 30));
        summary.stragglers = new ArrayList<>(names("s", 5));
        summary.refused = new ArrayList<>(names("r", 12).stream().map(n -> new RefusedUpdate(n, "NormOutlier", "far too big")).toList());
        summary.message = "1000 update(s) aggregated";

        RoundHistory.bounded(summary);

        assertThat(summary.participantCount).isEqualTo(1000);
        assertThat(summary.participants).hasSize(RoundSummary.NAMES_LIMIT).startsWith(names("p", 1).get(0));
        assertThat(summary.failedCount).isEqualTo(30);
        assertThat(summary.failed).hasSize(RoundSummary.NAMES_LIMIT);
        assertThat(summary.stragglerCount).isEqualTo(5);
        assertThat(summary.stragglers).hasSize(5);
        assertThat(summary.refusedCount).isEqualTo(12);
        assertThat(summary.refused).hasSize(RoundSummary.NAMES_LIMIT);
        assertThat(summary.message).contains("first " + RoundSummary.NAMES_LIMIT);
        assertThat(RoundHistory.names(names("x", 25))).endsWith(" and 15 more");
    }

    @Test
    void aFullHistoryOfThousandShardRoundsStaysSmall() {
        FederatedRunStatus status = new FederatedRunStatus();
        status.roundShards = new ArrayList<>(names("current", 1000));
        for (int round = 1; round <= FederatedRunStatus.HISTORY_LIMIT; round++) {
            RoundSummary summary = new RoundSummary();
            summary.round = round;
            summary.outcome = RoundOutcome.Completed;
            summary.participants = new ArrayList<>(names("p" + round, 1000));
            summary.failed = new ArrayList<>(names("f" + round, 1000));
            summary.stragglers = new ArrayList<>(names("s" + round, 1000));
            summary.refused = new ArrayList<>(names("r" + round, 1000).stream().map(n -> new RefusedUpdate(n, "NormOutlier", "update norm far above the round's median")).toList());
            summary.failedAttemptShards = new ArrayList<>(names("a" + round, 1000));
            summary.failedAttempts = 6000;
            java.util.Map<String, Integer> reasons = new java.util.HashMap<>();
            names("reason", 1000).forEach(n -> reasons.put(("R" + n).replaceAll("[^A-Za-z0-9]", "").substring(0, 40), 6));
            summary.failedAttemptReasons = io.fedtune.operator.round.FailedAttempts.mostFirst(reasons);
            summary.message = "worst case: every list full";
            // and every trainer reporting a device/precision of its own, of the longest word status keeps
            DeviceUse.count(summary, names("d" + round, 1000).stream().map(n -> new TrainResult(Outcome.Succeeded, null, null, n,
                    1, null, null, null, null, null, null, null, null, null, null, null, n.substring(0, 16), n.substring(47), "miss",
                    null, null, null))
                    .toList());
            summary.aggregationDevice = DeviceUse.of("x".repeat(16), "y".repeat(16));
            // every eval set the CRD allows (8, names of 63), each with every metric, plus figures status does not keep
            java.util.Map<String, java.util.Map<String, Double>> scores = new java.util.LinkedHashMap<>();
            for (String set : names("e" + round, 12)) {
                java.util.Map<String, Double> metrics = new java.util.HashMap<>();
                for (var m : io.fedtune.api.v1alpha1.EvalMetric.values()) {
                    metrics.put(m.name(), 0.123456789012345);
                }
                names("unknown", 50).forEach(n -> metrics.put(n, 1.0));
                scores.put(set, metrics);
            }
            summary.evalScores = RoundHistory.evalScores(scores, evalSets(round));
            summary.evalLosses = new java.util.LinkedHashMap<>();
            names("e" + round, 8).forEach(n -> summary.evalLosses.put(n, 0.123456789012345));
            summary.evalMetric = "AccuracyNorm";
            summary.globalEvalScore = 0.123456789012345;
            summary.localEvals = new ArrayList<>(names("l" + round, 1000).stream()
                    .map(n -> new io.fedtune.api.v1alpha1.LocalEval(n, "AccuracyNorm", 0.123456789012345, 0.123456789012345)).toList());
            status.history.add(RoundHistory.bounded(summary));
        }
        int history = bytes(status) - bytes(withoutRoundShards(status));
        int roundShards = bytes(status) - history;
        // worst case (names of 63 characters, every list over the limit, 20 rounds, 8 eval sets with 3 metrics each and
        // 10 local evals per round): history about 170 KB, below 192 KiB, where it was about 5.4 MB unbounded (about 100 KB
        // before the per-set metrics and local evals); the current round's 1,000 names (the restart-safe selection) about
        // 65 KB; all of it far below the API server's 1.5 MiB per object
        assertThat(bytes(withoutRoundShards(status))).isLessThan(192 * 1024);
        assertThat(bytes(status)).isLessThan(256 * 1024);
        System.out.printf("status bytes: history %d, with 1,000 roundShards of 63 characters %d%n", bytes(withoutRoundShards(status)), bytes(status));
        assertThat(roundShards).isPositive();
        assertThat(status.history).allSatisfy(h -> assertThat(h.failedAttemptReasons).hasSize(RoundSummary.ATTEMPT_REASONS_LIMIT + 1)
                .containsKey("other"));
        assertThat(status.history).allSatisfy(h -> assertThat(h.failedAttemptShards).hasSize(RoundSummary.NAMES_LIMIT));
        assertThat(status.history).allSatisfy(h -> assertThat(h.failedAttemptShardCount).isEqualTo(1000));
        assertThat(status.history).allSatisfy(h -> assertThat(h.evalScores).hasSize(8)
                .allSatisfy((set, metrics) -> assertThat(metrics).containsOnlyKeys("Accuracy", "AccuracyNorm", "Loss")));
        assertThat(status.history).allSatisfy(h -> assertThat(h.localEvals).hasSize(RoundSummary.NAMES_LIMIT));
        assertThat(status.history).allSatisfy(h -> assertThat(h.trainerDevices).endsWith("other x996").hasSizeLessThan(200));
    }

    /** The spec's 8 sets (the CRD's most), each a Classification one: 3 metrics. */
    private static List<io.fedtune.api.v1alpha1.EvalDataset> evalSets(int round) {
        return names("e" + round, 8).stream().map(n -> {
            var d = new io.fedtune.api.v1alpha1.EvalDataset();
            d.name = n;
            d.task = io.fedtune.api.v1alpha1.EvalTask.Classification;
            return d;
        }).toList();
    }

    private static FederatedRunStatus withoutRoundShards(FederatedRunStatus status) {
        FederatedRunStatus copy = ContractJson.mapper().convertValue(status, FederatedRunStatus.class);
        copy.roundShards = new ArrayList<>();
        return copy;
    }

    private static int bytes(FederatedRunStatus status) {
        return ContractJson.write(status).getBytes(StandardCharsets.UTF_8).length;
    }
}
