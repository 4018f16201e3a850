package io.fedtune.operator.validation;

import static io.fedtune.operator.validation.Resources.run;
import static io.fedtune.operator.validation.Resources.set;
import static io.fedtune.operator.validation.Resources.shard;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** spec.evaluation.datasets[] and a shard's spec.data.eval: the metric is one of its task's, maxNewTokens is Generation's. */
class EvalTaskRulesTest {
    private static final CrdSchemaValidator VALIDATOR = new CrdSchemaValidator();

    private static GenericKubernetesResource runWith(int set, EvalTask task, EvalMetric metric) {
        GenericKubernetesResource run = set(run(), "spec.evaluation.datasets[" + set + "].task", task.name());
        return metric == null ? run : set(run, "spec.evaluation.datasets[" + set + "].metric", metric.name());
    }

    @Test
    void theRulesAcceptExactlyEachTasksMetrics() {
        for (EvalTask task : EvalTask.values()) {
            for (EvalMetric metric : EvalMetric.values()) {
                List<Violation> violations = VALIDATOR.validate(runWith(1, task, metric), null);
                if (task.metrics().contains(metric)) {
                    assertThat(violations).as(task + " " + metric).isEmpty();
                } else {
                    assertThat(violations).as(task + " " + metric).singleElement().satisfies(v -> {
                        assertThat(v.field()).isEqualTo("spec.evaluation.datasets[1].metric");
                        assertThat(v.message()).startsWith("spec.evaluation.datasets[1].metric: metric must be one of its task's metrics");
                        assertThat(v.message()).contains(String.join(", ", task.metrics().stream().limit(task.metrics().size() - 1)
                                .map(Enum::name).toList()) + " or " + task.metrics().get(task.metrics().size() - 1));
                    });
                }
            }
            assertThat(VALIDATOR.validate(runWith(0, task, null), null)).as(task + " without a metric").isEmpty();
        }
    }

    @Test
    void aMetricWithoutATaskIsALanguageModelingOne() {
        assertThat(VALIDATOR.validate(set(run(), "spec.evaluation.datasets[0].metric", "Perplexity"), null)).isEmpty();
        assertThat(VALIDATOR.validate(set(run(), "spec.evaluation.datasets[0].metric", "Accuracy"), null)).singleElement()
                .satisfies(v -> assertThat(v.message()).contains("Loss or Perplexity (LanguageModeling)"));
    }

    @Test
    void maxNewTokensOnlyWithGeneration() {
        GenericKubernetesResource generation = set(runWith(0, EvalTask.Generation, EvalMetric.RougeL),
                "spec.evaluation.datasets[0].maxNewTokens", 64);
        assertThat(VALIDATOR.validate(generation, null)).isEmpty();
        for (EvalTask task : List.of(EvalTask.LanguageModeling, EvalTask.Classification, EvalTask.MultipleChoice)) {
            assertThat(VALIDATOR.validate(set(runWith(0, task, null), "spec.evaluation.datasets[0].maxNewTokens", 64), null))
                    .as(task.name()).singleElement().satisfies(v -> {
                        assertThat(v.field()).isEqualTo("spec.evaluation.datasets[0].maxNewTokens");
                        assertThat(v.message()).startsWith("spec.evaluation.datasets[0].maxNewTokens: ").contains("Generation only");
                    });
        }
        assertThat(VALIDATOR.validate(set(run(), "spec.evaluation.datasets[0].maxNewTokens", 64), null))
                .as("no task: LanguageModeling").hasSize(1);
    }

    @Test
    void aShardsEvalDataFollowsTheSameRules() {
        assertThat(VALIDATOR.validate(set(shard(), "spec.data.eval", Map.of("uri", "s3://shard-a/eval.jsonl", "task", "Classification",
                "metric", "AccuracyNorm")), null)).isEmpty();
        assertThat(VALIDATOR.validate(set(shard(), "spec.data.eval", Map.of("uri", "s3://shard-a/eval.jsonl", "task", "Classification",
                "metric", "RougeL")), null)).singleElement().satisfies(v -> {
                    assertThat(v.field()).isEqualTo("spec.data.eval.metric");
                    assertThat(v.message()).startsWith("spec.data.eval.metric: ").contains("Accuracy, AccuracyNorm or Loss (Classification");
                });
        assertThat(VALIDATOR.validate(set(shard(), "spec.data.eval", Map.of("uri", "s3://shard-a/eval.jsonl", "maxNewTokens", 8)), null))
                .singleElement().satisfies(v -> assertThat(v.field()).isEqualTo("spec.data.eval.maxNewTokens"));
    }
}
