package io.fedtune.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The eval gauges: one per run, set and metric plus the primary one, replaced per round, removed with the run. */
class RunMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RunMetrics metrics = new RunMetrics(registry);

    private double gauge(String name, String... tags) {
        return registry.get(name).tags(tags).gauge().value();
    }

    @Test
    void aGaugePerSetAndMetricAndThePrimaryOne() {
        metrics.runEvaluation("ns", "r", "RougeL", 0.41, Map.of("in-domain", Map.of("RougeL", 0.41, "ExactMatch", 0.2, "Loss", 1.9),
                "out-of-domain", Map.of("Accuracy", 0.6)));
        assertThat(gauge("fedtune.run.primary.score", "run", "r", "namespace", "ns", "metric", "RougeL")).isEqualTo(0.41);
        assertThat(gauge("fedtune.run.eval.score", "run", "r", "set", "in-domain", "metric", "ExactMatch")).isEqualTo(0.2);
        assertThat(gauge("fedtune.run.eval.score", "run", "r", "set", "out-of-domain", "metric", "Accuracy")).isEqualTo(0.6);
        assertThat(registry.find("fedtune.run.eval.score").gauges()).hasSize(4);

        metrics.runEvaluation("ns", "r", "RougeL", 0.45, Map.of("in-domain", Map.of("RougeL", 0.45)));
        assertThat(gauge("fedtune.run.primary.score", "run", "r", "metric", "RougeL")).isEqualTo(0.45);
        assertThat(registry.find("fedtune.run.eval.score").gauges()).as("what the round no longer reports goes").hasSize(1);
    }

    @Test
    void cardinalityIsBoundedWhateverAnImageReports() {
        Map<String, Map<String, Double>> scores = new LinkedHashMap<>();
        IntStream.range(0, 20).forEach(i -> scores.put("set-" + i, Map.of("Accuracy", 0.5, "bleu-" + i, 0.1)));
        metrics.runEvaluation("ns", "r", "Made-up", 1.0, scores);
        assertThat(registry.find("fedtune.run.eval.score").gauges()).hasSize(RunMetrics.EVAL_SETS_LIMIT);
        assertThat(registry.find("fedtune.run.primary.score").gauges()).as("an unknown metric gets none").isEmpty();
    }

    @Test
    void theGaugesGoWithTheRun() {
        metrics.runState("ns", "r", true, 2);
        metrics.runEvaluation("ns", "r", "Loss", 1.5, Map.of("in-domain", Map.of("Loss", 1.5)));
        metrics.runEvaluation("ns", "other", "Loss", 2.5, Map.of("in-domain", Map.of("Loss", 2.5)));
        metrics.runDeleted("ns", "r");
        assertThat(registry.getMeters().stream().map(Meter::getId).filter(id -> "r".equals(id.getTag("run")))).isEmpty();
        assertThat(gauge("fedtune.run.eval.score", "run", "other", "set", "in-domain", "metric", "Loss")).isEqualTo(2.5);
    }
}
