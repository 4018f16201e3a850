package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.eval.TaskScore;
import java.util.Map;

/**
 * Global evaluation of base model + new global adapter.
 *
 * @param evalMetric    the primary (first) set's ranking metric ({@code EvalMetric} name)
 * @param evalScore     its value
 * @param evalLoss      mean loss per gold token on the primary set
 * @param sets          per named eval set: its task, every metric of the task, and the same by context-length class
 * @param bestEvalScore the best primary score of earlier rounds, or null
 * @param regressed     whether evalScore is worse than bestEvalScore in the metric's direction
 */
public record RoundEvaluation(String evalMetric, Double evalScore, Double evalLoss, Map<String, TaskScore> sets,
        Double bestEvalScore, Boolean regressed) {
}
