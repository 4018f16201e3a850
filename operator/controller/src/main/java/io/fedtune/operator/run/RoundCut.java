package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.PodStart;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.RoundPods;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The end of a round's training as written on its aggregation pods: which selected shards did not deliver, and why
 * ({@code why}: "Reason: message" of the first {@link RoundSummary#NAMES_LIMIT} failed shards, kept because a pod
 * that never started is deleted when training ends, and with it the only other record of its failure).
 */
record RoundCut(List<String> failed, List<String> stragglers, Map<String, String> why) {
    private static final int WHY_LIMIT = 200;

    RoundCut(List<String> failed, List<String> stragglers) {
        this(failed, stragglers, Map.of());
    }

    /** The cut at the end of training, with why each failed shard's last attempt failed. */
    static RoundCut of(List<String> failed, List<String> stragglers, RoundPods pods, java.time.Instant now, PodStart start) {
        Map<String, String> why = new LinkedHashMap<>();
        for (String shard : failed.subList(0, Math.min(failed.size(), RoundSummary.NAMES_LIMIT))) {
            PodOutcome last = Attempts.of(pods.trainerAttempts(shard), Integer.MAX_VALUE, java.time.Duration.ZERO, now, start).last();
            if (last != null && last.reason() != null) {
                why.put(shard, reasonAndMessage(last));
            }
        }
        return new RoundCut(failed, stragglers, why);
    }

    /** "shard (Reason: message)", for messages and the Degraded condition. */
    static String why(String shard, PodOutcome last) {
        return shard + " (" + (last == null ? "Unknown" : reasonAndMessage(last)) + ")";
    }

    private static String reasonAndMessage(PodOutcome last) {
        String text = last.reason() + (last.message() == null || last.message().isBlank() ? "" : ": " + last.message());
        return text.length() <= WHY_LIMIT ? text : text.substring(0, WHY_LIMIT - 3) + "...";
    }

    void annotate(Pod pod) {
        PodLabels.annotateCut(pod, failed, stragglers);
        if (!why.isEmpty()) {
            pod.getMetadata().getAnnotations().put(PodLabels.FAILED_WHY, ContractJson.write(why));
        }
    }

    @SuppressWarnings("unchecked")
    static RoundCut of(Pod aggregationPod) {
        String json = aggregationPod.getMetadata().getAnnotations() == null ? null
                : aggregationPod.getMetadata().getAnnotations().get(PodLabels.FAILED_WHY);
        Map<String, String> why = json == null ? Map.of() : ContractJson.read(json, Map.class);
        return new RoundCut(PodLabels.failedShards(aggregationPod), PodLabels.stragglerShards(aggregationPod), why);
    }
}
