package io.fedtune.operator.validation;

import java.util.List;

/**
 * The estimated cost of one x-kubernetes-validations rule (or messageExpression) of a CRD, as the API server works it
 * out when the CRD is applied.
 *
 * @param path        the schema node the rule sits on, e.g. spec.evaluation.datasets
 * @param index       the rule's index in that node's x-kubernetes-validations
 * @param expression  the rule (or messageExpression) source
 * @param perCall     the estimated cost of one evaluation
 * @param cardinality how many times the rule can run per object: the product of maxItems/maxProperties of the lists
 *                    and maps above it, or what fits in a request when one of them is unbounded
 * @param cost        perCall times cardinality: what is compared with the per-rule limit and summed for the CRD
 * @param fixes       limits whose absence made a size request-sized, e.g. "add maxLength to spec.x[].name"
 */
public record RuleCost(String path, int index, String expression, long perCall, long cardinality, long cost,
        List<String> fixes) {

    /** Whether the API server refuses the rule on its own. */
    public boolean overRuleLimit() {
        return cost > CrdAdmission.PER_RULE_COST_LIMIT;
    }

    /** One line for reports: where, the rule, its estimate and how it compares with the per-rule limit. */
    public String describe() {
        return String.format("%s x-kubernetes-validations[%d] `%s`: estimated cost %s (%s per call x cardinality %s), %s of the "
                + "per-rule limit %,d", path, index, expression, amount(cost), amount(perCall), amount(cardinality),
                CrdAdmission.factor(cost, CrdAdmission.PER_RULE_COST_LIMIT), CrdAdmission.PER_RULE_COST_LIMIT);
    }

    static String amount(long value) {
        return value == CelCost.UNBOUNDED ? "unbounded" : String.format("%,d", value);
    }
}
