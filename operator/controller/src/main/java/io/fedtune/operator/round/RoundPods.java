package io.fedtune.operator.round;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.PodOutcome;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The pods of one round of a run, grouped by shard and role, attempts in order. Pods are the truth of in-flight work. */
public final class RoundPods {
    private static final Comparator<Pod> BY_ATTEMPT = Comparator.comparingInt(PodLabels::attempt);
    private final Map<String, List<Pod>> trainers = new HashMap<>();
    private final List<Pod> aggregators = new ArrayList<>();

    public RoundPods(Collection<Pod> runPods, int round) {
        for (Pod pod : runPods) {
            Integer podRound = PodLabels.round(pod);
            if (podRound == null || podRound != round || pod.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            if (PodLabels.isAggregator(pod)) {
                aggregators.add(pod);
            } else if (PodLabels.shard(pod) != null) {
                trainers.computeIfAbsent(PodLabels.shard(pod), s -> new ArrayList<>()).add(pod);
            }
        }
        trainers.values().forEach(l -> l.sort(BY_ATTEMPT));
        aggregators.sort(BY_ATTEMPT);
    }

    /**
     * One role's attempts among a run's pods, in order: the preparation's ({@code round} null: it has none), or the
     * publishing of the adapter a round wrote. Pods being deleted are gone already.
     */
    public static List<Pod> attempts(Collection<Pod> runPods, String role, Integer round) {
        List<Pod> attempts = new ArrayList<>();
        for (Pod pod : runPods) {
            if (role.equals(PodLabels.role(pod)) && pod.getMetadata().getDeletionTimestamp() == null
                    && (round == null || round.equals(PodLabels.round(pod)))) {
                attempts.add(pod);
            }
        }
        attempts.sort(BY_ATTEMPT);
        return attempts;
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

    /** The latest attempt of each shard's trainer that has not finished. */
    public List<Pod> unfinishedTrainers() {
        List<Pod> unfinished = new ArrayList<>();
        for (List<Pod> attempts : trainers.values()) {
            Pod latest = attempts.get(attempts.size() - 1);
            if (!PodOutcome.of(latest).finished()) {
                unfinished.add(latest);
            }
        }
        return unfinished;
    }

    /** The latest attempt of every shard's trainer. */
    public List<Pod> latestTrainers() {
        return trainers.values().stream().map(l -> l.get(l.size() - 1)).toList();
    }
}
