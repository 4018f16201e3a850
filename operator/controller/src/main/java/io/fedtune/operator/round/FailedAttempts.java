package io.fedtune.operator.round;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.PodOutcome;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The trace retries leave in a round's history: how many trainer attempts failed, why, and on which shards, from the
 * round's pods (a failed pod stays until the round is recorded). A shard that succeeded on its seventh attempt would
 * otherwise look like one that never failed.
 */
public final class FailedAttempts {
    /** An attempt whose pod is gone: one that never started is deleted once its retry exists. */
    static final String UNRECORDED = "Unrecorded";
    static final String OTHER = "other";
    private static final Pattern REASON = Pattern.compile("[A-Za-z][A-Za-z0-9]{0,39}");

    private FailedAttempts() {
    }

    /**
     * Fills failedAttempts, failedAttemptReasons and failedAttemptShards. {@code lastFailure} gives the reason of a shard's
     * last attempt when that attempt's pod did not finish as failed (a pod that never started, cut at the end of
     * training), or null.
     */
    public static void count(RoundSummary summary, RoundPods pods, Collection<String> shards, Function<String, String> lastFailure) {
        Map<String, Integer> reasons = new HashMap<>();
        List<String> withFailures = new ArrayList<>();
        int total = 0;
        for (String shard : shards) {
            int failed = 0;
            int highest = 0;
            int present = 0;
            boolean lastFailed = false;
            for (Pod pod : pods.trainerAttempts(shard)) {
                highest = Math.max(highest, PodLabels.attempt(pod));
                present++;
                PodOutcome outcome = PodOutcome.of(pod);
                lastFailed = outcome.state() == PodOutcome.State.FAILED;
                if (lastFailed) {
                    failed++;
                    reasons.merge(reason(outcome.reason()), 1, Integer::sum);
                }
            }
            int gone = Math.max(0, highest - present);
            if (gone > 0) {
                failed += gone;
                reasons.merge(UNRECORDED, gone, Integer::sum);
            }
            String last = lastFailed ? null : lastFailure.apply(shard);
            if (last != null) {
                failed++;
                reasons.merge(reason(last), 1, Integer::sum);
            }
            if (failed > 0) {
                withFailures.add(shard);
                total += failed;
            }
        }
        summary.failedAttempts = total;
        summary.failedAttemptShards = withFailures;
        summary.failedAttemptReasons = mostFirst(reasons);
    }

    /** A reason as status keeps it: a short word (they come from any image's termination message), else "invalid". */
    static String reason(String reported) {
        if (reported == null || reported.isEmpty()) {
            return UNRECORDED;
        }
        return REASON.matcher(reported).matches() ? reported : "invalid";
    }

    /** The reasons most first, at most {@link RoundSummary#ATTEMPT_REASONS_LIMIT}, the rest counted as "other". */
    public static Map<String, Integer> mostFirst(Map<String, Integer> reasons) {
        List<Map.Entry<String, Integer>> sorted = new ArrayList<>(reasons.entrySet());
        sorted.sort(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
        Map<String, Integer> kept = new LinkedHashMap<>();
        int other = 0;
        for (int i = 0; i < sorted.size(); i++) {
            if (i < RoundSummary.ATTEMPT_REASONS_LIMIT) {
                kept.put(sorted.get(i).getKey(), sorted.get(i).getValue());
            } else {
                other += sorted.get(i).getValue();
            }
        }
        if (other > 0) {
            kept.merge(OTHER, other, Integer::sum);
        }
        return kept;
    }
}
