package io.fedtune.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The operator's Prometheus metrics (names as Prometheus shows them are listed in operator/README.md). Run-level
 * gauges are registered per run and removed when the run is deleted, so cardinality follows the live runs.
 */
public final class RunMetrics {
    private final MeterRegistry registry;
    private final Map<String, Boolean> activeRuns = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> currentRound = new ConcurrentHashMap<>();

    public RunMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("fedtune.runs.active", activeRuns, m -> m.values().stream().filter(b -> b).count())
                .description("FederatedRuns in phase Running").register(registry);
    }

    public void roundFinished(String namespace, String outcome, Duration roundDuration) {
        Counter.builder("fedtune.rounds.completed").description("Rounds finished, by outcome")
                .tags("namespace", namespace, "outcome", outcome).register(registry).increment();
        Timer.builder("fedtune.round.duration").description("Wall time of a round from start to record")
                .tags("namespace", namespace, "outcome", outcome).register(registry).record(roundDuration);
    }

    public void aggregationFinished(String namespace, String outcome, Duration duration) {
        Timer.builder("fedtune.aggregation.duration").description("Wall time of an aggregation attempt")
                .tags("namespace", namespace, "outcome", outcome).register(registry).record(duration);
    }

    /** outcome: Succeeded, Failed, Retried, Straggler, Refused. */
    public void shardOutcome(String namespace, String outcome) {
        Counter.builder("fedtune.shard.outcomes").description("Trainer outcomes per shard and round")
                .tags("namespace", namespace, "outcome", outcome).register(registry).increment();
    }

    public void reconcileError(String kind) {
        Counter.builder("fedtune.reconcile.errors").description("Reconciles that ended in an exception")
                .tags("kind", kind).register(registry).increment();
    }

    public void runState(String namespace, String run, boolean active, int round) {
        String key = namespace + "/" + run;
        activeRuns.put(key, active);
        currentRound.computeIfAbsent(key, k -> {
            AtomicInteger holder = new AtomicInteger();
            Gauge.builder("fedtune.run.current.round", holder, AtomicInteger::get).description("Round in progress, or the last one")
                    .tags(Tags.of("namespace", namespace, "run", run)).register(registry);
            return holder;
        }).set(round);
    }

    public void runDeleted(String namespace, String run) {
        String key = namespace + "/" + run;
        activeRuns.remove(key);
        if (currentRound.remove(key) != null) {
            registry.find("fedtune.run.current.round").tags("namespace", namespace, "run", run).meters().forEach(registry::remove);
        }
    }
}
