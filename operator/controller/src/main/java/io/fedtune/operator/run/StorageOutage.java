package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.status.Situation;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The run's object storage as the round's attempts saw it: out while the most recently finished attempt (trainer or
 * aggregation) failed StorageUnreachable, back once a later one finished otherwise (it got past storage). Puts that on
 * the step's situation for the StorageUnavailable condition, with an Event when it changes. Pods are the truth, so a
 * restarted operator comes to the same view.
 */
final class StorageOutage {
    private StorageOutage() {
    }

    static void note(RoundActions actions, RunSnapshot s, RoundPods pods) {
        List<Pod> all = new ArrayList<>();
        pods.allTrainerAttempts().forEach(all::addAll);
        all.addAll(pods.aggregatorAttempts());
        Pod latest = null;
        PodOutcome latestOutcome = null;
        for (Pod pod : all) {
            PodOutcome o = PodOutcome.of(pod);
            if (!o.finished() || o.finishedAt() == null) {
                continue;
            }
            int order = latestOutcome == null ? 1 : o.finishedAt().compareTo(latestOutcome.finishedAt());
            if (order == 0) {
                // finished in the same second: the aggregation comes after training, else the one created later is the
                // later attempt; else storage answered someone
                order = Boolean.compare(PodLabels.isAggregator(pod), PodLabels.isAggregator(latest));
                order = order != 0 ? order : created(pod).compareTo(created(latest));
                order = order != 0 ? order : Attempts.storage(latestOutcome) && !Attempts.storage(o) ? 1 : 0;
            }
            if (order > 0) {
                latest = pod;
                latestOutcome = o;
            }
        }
        if (latest == null || s.situation == null) {
            return;
        }
        boolean was = Conditions.isTrue(s.status.conditions, ConditionType.STORAGE_UNAVAILABLE);
        String endpoint = endpoint(s);
        Situation.Storage seen;
        if (Attempts.storage(latestOutcome)) {
            seen = new Situation.Storage(true, "object storage at " + endpoint + " is unreachable: round "
                    + s.status.currentRound + ": the latest attempts of " + failing(all) + " failed StorageUnreachable; they are "
                    + "retried without counting against spec.participation.maxRetries until the round timeout");
            if (!was) {
                actions.events().record(s.run, EventReason.StorageUnavailable, seen.message());
            }
        } else {
            seen = new Situation.Storage(false, "object storage at " + endpoint + " answered " + latest.getMetadata().getName());
            if (was) {
                actions.events().record(s.run, EventReason.StorageAvailable, "object storage at " + endpoint
                        + " is reachable again: " + latest.getMetadata().getName() + " got past it");
            }
        }
        s.situation = s.situation.withStorage(seen);
    }

    private static java.time.Instant created(Pod pod) {
        String created = pod.getMetadata().getCreationTimestamp();
        return created == null ? java.time.Instant.EPOCH : java.time.Instant.parse(created);
    }

    /** Who is waiting on storage: the shards (and the aggregation) whose latest finished attempt failed for it. */
    private static String failing(List<Pod> all) {
        java.util.Map<String, PodOutcome> latestBy = new java.util.HashMap<>();
        java.util.Map<String, Integer> attemptBy = new java.util.HashMap<>();
        for (Pod pod : all) {
            PodOutcome o = PodOutcome.of(pod);
            if (!o.finished()) {
                continue;
            }
            String who = PodLabels.isAggregator(pod) ? "the aggregation" : "shard " + PodLabels.shard(pod);
            int attempt = PodLabels.attempt(pod);
            if (attemptBy.getOrDefault(who, 0) < attempt) {
                attemptBy.put(who, attempt);
                latestBy.put(who, o);
            }
        }
        TreeSet<String> names = new TreeSet<>();
        latestBy.forEach((who, o) -> {
            if (Attempts.storage(o)) {
                names.add(who);
            }
        });
        return RoundHistory.names(List.copyOf(names));
    }

    /** The run's storage endpoint as messages name it: no user info, should one ever carry any. */
    static String endpoint(RunSnapshot s) {
        String endpoint = s.run.getSpec().storage == null ? null : s.run.getSpec().storage.endpoint;
        if (endpoint == null) {
            return "(no endpoint)";
        }
        int scheme = endpoint.indexOf("://");
        int at = endpoint.lastIndexOf('@');
        return scheme >= 0 && at > scheme ? endpoint.substring(0, scheme + 3) + endpoint.substring(at + 1) : endpoint;
    }
}
