package io.fedtune.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.fedtune.api.v1alpha1.EvalMetric;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The operator's Prometheus metrics (names as Prometheus shows them are listed in operator/README.md). Run-level
 * gauges are registered per run and removed when the run is deleted, so cardinality follows the live runs.
 */
public final class RunMetrics {
    private final MeterRegistry registry;
    private final Map<String, Boolean> activeRuns = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> currentRound = new ConcurrentHashMap<>();
    /** Per run: its eval gauges' holders, by (name, set, metric). */
    private final Map<String, Map<EvalGauge, AtomicReference<Double>>> evalScores = new ConcurrentHashMap<>();

    /** Eval sets per run with gauges (the CRD allows 8), metrics per set (a task reports at most 3 of the 6 known). */
    static final int EVAL_SETS_LIMIT = 8;

    private record EvalGauge(String name, String set, String metric) {
    }

    static final String EVAL_SCORE = "fedtune.run.eval.score";
    static final String PRIMARY_SCORE = "fedtune.run.primary.score";

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

    /**
     * The latest recorded round's global evaluation: {@code fedtune_run_eval_score{set, metric}} for every metric of each
     * eval set, and {@code fedtune_run_primary_score{metric}} for the metric that ranks adapters. Gauges of sets or
     * metrics the round no longer reports are removed; only known metric names and the first {@link #EVAL_SETS_LIMIT}
     * sets get one, so cardinality stays bounded whatever a trainer image reports.
     *
     * @param primaryMetric the round's ranking metric (RoundSummary.evalMetric), or null
     * @param primaryScore  its value (RoundSummary.globalEvalScore), or null
     * @param scores        every metric of each eval set (RoundSummary.evalScores)
     */
    public void runEvaluation(String namespace, String run, String primaryMetric, Double primaryScore,
            Map<String, Map<String, Double>> scores) {
        Map<EvalGauge, Double> wanted = new LinkedHashMap<>();
        if (primaryScore != null && EvalMetric.named(primaryMetric) != null) {
            wanted.put(new EvalGauge(PRIMARY_SCORE, null, primaryMetric), primaryScore);
        }
        scores.entrySet().stream().limit(EVAL_SETS_LIMIT).forEach(set -> set.getValue().forEach((metric, value) -> {
            if (value != null && EvalMetric.named(metric) != null) {
                wanted.put(new EvalGauge(EVAL_SCORE, set.getKey(), metric), value);
            }
        }));
        Map<EvalGauge, AtomicReference<Double>> held = evalScores.computeIfAbsent(namespace + "/" + run, k -> new ConcurrentHashMap<>());
        for (EvalGauge g : List.copyOf(held.keySet())) {
            if (!wanted.containsKey(g)) {
                held.remove(g);
                remove(g, namespace, run);
            }
        }
        wanted.forEach((g, value) -> held.computeIfAbsent(g, k -> {
            AtomicReference<Double> holder = new AtomicReference<>(value);
            Tags tags = Tags.of("namespace", namespace, "run", run, "metric", g.metric());
            Gauge.builder(g.name(), holder, h -> h.get()).tags(g.set() == null ? tags : tags.and("set", g.set()))
                    .description(g.set() == null ? "The latest round's global score in the metric that ranks adapters (the primary eval set's)"
                            : "The latest round's global score per eval set and metric")
                    .register(registry);
            return holder;
        }).set(value));
    }

    private void remove(EvalGauge g, String namespace, String run) {
        var search = registry.find(g.name()).tags("namespace", namespace, "run", run, "metric", g.metric());
        (g.set() == null ? search : search.tag("set", g.set())).meters().forEach(registry::remove);
    }

    public void runDeleted(String namespace, String run) {
        String key = namespace + "/" + run;
        activeRuns.remove(key);
        Map<EvalGauge, AtomicReference<Double>> held = evalScores.remove(key);
        if (held != null) {
            held.keySet().forEach(g -> remove(g, namespace, run));
        }
        if (currentRound.remove(key) != null) {
            registry.find("fedtune.run.current.round").tags("namespace", namespace, "run", run).meters().forEach(registry::remove);
        }
    }
}
