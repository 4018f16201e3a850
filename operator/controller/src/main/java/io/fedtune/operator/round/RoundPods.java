package io.fedtune.operator.round;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.operator.pods.PodLabels;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The pods of one round of a run, grouped by shard and role, attempts in order. Pods are the truth of in-flight work. */
public final class RoundPods {
    private final Map<String, List<Pod>> trainers = new HashMap<>();
    private final List<Pod> aggregators = new ArrayList<>();

    public RoundPods(Collection<Pod> runPods, int round) {
        String roundLabel = Integer.toString(round);
        for (Pod pod : runPods) {
            Map<String, String> labels = pod.getMetadata().getLabels();
            if (labels == null || !roundLabel.equals(labels.get(PodLabels.ROUND)) || pod.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            if (PodLabels.ROLE_AGGREGATOR.equals(labels.get(PodLabels.ROLE))) {
                aggregators.add(pod);
            } else if (PodLabels.shardOf(pod) != null) {
                trainers.computeIfAbsent(PodLabels.shardOf(pod), s -> new ArrayList<>()).add(pod);
            }
        }
        trainers.values().forEach(l -> l.sort(BY_ATTEMPT));
        aggregators.sort(BY_ATTEMPT);
    }

    public List<Pod> trainerAttempts(String shard) {
        return trainers.getOrDefault(shard, List.of());
    }

    public Collection<List<Pod>> allTrainerAttempts() {
        return trainers.values();
    }

    public List<Pod> aggregatorAttempts() {
        return aggregators;
    }

    public static int attempt(Pod pod) {
        String a = pod.getMetadata().getLabels().get(PodLabels.ATTEMPT);
        try {
            return a == null ? 1 : Integer.parseInt(a);
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    public static Integer round(Pod pod) {
        Map<String, String> labels = pod.getMetadata().getLabels();
        try {
            return labels == null ? null : Integer.valueOf(labels.get(PodLabels.ROUND));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static final Comparator<Pod> BY_ATTEMPT = Comparator.comparingInt(RoundPods::attempt);
}
