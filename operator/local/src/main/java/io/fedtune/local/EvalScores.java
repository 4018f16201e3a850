package io.fedtune.local;

import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.RoundSummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A run's global evaluation as the report shows it: per eval set (in the spec's order, the primary first), per round
 * (0: the base model's baseline), every metric the round history recorded. Rounds recorded before sets reported more
 * than a loss (evalLosses only) count as Loss.
 */
final class EvalScores {
    private static final String GLOBAL = "global";

    private final Map<String, EvalDataset> specs = new LinkedHashMap<>();
    private final Map<String, Map<Integer, Map<String, Double>>> bySet = new LinkedHashMap<>();

    private EvalScores() {
    }

    static EvalScores of(FederatedRun run, Map<String, Map<String, Double>> baseline) {
        EvalScores s = new EvalScores();
        if (run.getSpec().evaluation != null) {
            for (EvalDataset set : run.getSpec().evaluation.datasets) {
                s.specs.put(set.name, set);
                s.bySet.put(set.name, new TreeMap<>());
            }
        }
        baseline.forEach((set, metrics) -> metrics.forEach((metric, v) -> s.put(set, 0, metric, v)));
        for (RoundSummary r : run.getStatus().history) {
            r.evalScores.forEach((set, metrics) -> metrics.forEach((metric, v) -> s.put(set, r.round, metric, v)));
            r.evalLosses.forEach((set, loss) -> s.bySet.computeIfAbsent(set, k -> new TreeMap<>())
                    .computeIfAbsent(r.round, k -> new LinkedHashMap<>()).putIfAbsent(EvalMetric.Loss.name(), loss));
            if (r.evalLosses.isEmpty() && r.evalScores.isEmpty() && r.globalEvalLoss != null) {
                s.put(GLOBAL, r.round, EvalMetric.Loss.name(), r.globalEvalLoss);
            }
        }
        return s;
    }

    private void put(String set, int round, String metric, Double value) {
        if (value != null) {
            bySet.computeIfAbsent(set, k -> new TreeMap<>()).computeIfAbsent(round, k -> new LinkedHashMap<>()).put(metric, value);
        }
    }

    /** The sets, the spec's first (the primary one) first; sets only the history names after them. */
    List<String> sets() {
        return new ArrayList<>(bySet.keySet());
    }

    Optional<EvalTask> task(String set) {
        return Optional.ofNullable(specs.get(set)).map(d -> d.task == null ? EvalTask.LanguageModeling : d.task);
    }

    /** round -> metric -> value, rounds in order. */
    Map<Integer, Map<String, Double>> rounds(String set) {
        return bySet.getOrDefault(set, Map.of());
    }

    /** The metrics of the set's task in the task's order, then any others recorded. */
    List<String> metrics(String set) {
        Set<String> recorded = new LinkedHashSet<>();
        rounds(set).values().forEach(m -> recorded.addAll(m.keySet()));
        List<String> out = new ArrayList<>();
        task(set).ifPresent(t -> t.metrics().stream().map(Enum::name).filter(recorded::contains).forEach(out::add));
        recorded.stream().filter(m -> !out.contains(m)).forEach(out::add);
        return out;
    }

    /** The set's ranking metric where the history has it, else Loss. */
    String chartedMetric(String set) {
        String ranking = Optional.ofNullable(specs.get(set)).map(d -> d.rankingMetric().name()).orElse(EvalMetric.Loss.name());
        return metrics(set).contains(ranking) ? ranking : EvalMetric.Loss.name();
    }

    /** round -> value of one metric. */
    Map<Integer, Double> series(String set, String metric) {
        Map<Integer, Double> out = new TreeMap<>();
        rounds(set).forEach((round, m) -> {
            if (m.containsKey(metric)) {
                out.put(round, m.get(metric));
            }
        });
        return out;
    }
}
