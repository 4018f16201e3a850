package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.status.RunStatusAggregator;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One reconcile's view of a run: the run, a working copy of its status that the steps edit, its pods and the
 * namespace's shards (from the informer caches), and what the step concluded.
 */
public final class RunSnapshot {
    final FederatedRun run;
    final FederatedRunStatus status;
    final List<Pod> pods;
    final List<ClientShard> shards;
    final Instant now;
    Situation situation;
    private Stage stage;
    private Duration requeue;
    private java.util.Map<String, ClientShard> byName;

    RunSnapshot(FederatedRun run, FederatedRunStatus status, List<Pod> pods, List<ClientShard> shards, Instant now) {
        this.run = run;
        this.status = status;
        this.pods = pods;
        this.shards = shards;
        this.now = now;
    }

    String name() {
        return run.getMetadata().getName();
    }

    String namespace() {
        return run.getMetadata().getNamespace();
    }

    int completed() {
        return RunStatusAggregator.completed(status);
    }

    Optional<ClientShard> shard(String name) {
        if (byName == null) {
            byName = new java.util.HashMap<>();
            shards.forEach(s -> byName.put(s.getMetadata().getName(), s));
        }
        return Optional.ofNullable(byName.get(name));
    }

    /** The stage the step leaves the run in: that of the state it was in, unless the step moved it on. */
    Stage stage() {
        return stage;
    }

    void movedTo(RoundState.Kind state) {
        stage = state.stage();
    }

    void startsIn(RoundState state) {
        stage = state.stage();
    }

    /** Asks for another reconcile after {@code delay} (the earliest of all asks wins). */
    void requeueAfter(Duration delay) {
        Duration d = delay.isNegative() ? Duration.ZERO : delay;
        requeue = requeue == null || d.compareTo(requeue) < 0 ? d : requeue;
    }

    Optional<Duration> requeue() {
        return Optional.ofNullable(requeue);
    }
}
