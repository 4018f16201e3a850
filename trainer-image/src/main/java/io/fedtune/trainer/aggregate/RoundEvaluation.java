package io.fedtune.trainer.aggregate;

import java.util.Map;

/**
 * Global evaluation of base model + new global adapter.
 *
 * @param evalLoss     mean loss per token on the primary (first) eval set
 * @param sets         per named eval set: loss, perplexity, tokens, and the same by context-length class
 * @param bestEvalLoss the best primary loss of earlier rounds, or null
 * @param regressed    whether evalLoss is worse than bestEvalLoss
 */
public record RoundEvaluation(Double evalLoss, Map<String, SetResult> sets, Double bestEvalLoss, Boolean regressed) {

    /** One eval set's result; {@code byLength} keys are context-length classes such as "short", "medium", "long". */
    public record SetResult(double loss, double perplexity, long tokens, Map<String, SetResult> byLength) {
    }
}
