package io.fedtune.operator.validation;

import dev.cel.runtime.CelRuntime;

/**
 * One compiled x-kubernetes-validations rule.
 *
 * @param rule              the CEL source
 * @param message           the rule's message, or null to use messageExpression or the API server's wording
 * @param messageExpression compiled messageExpression, or null
 * @param fieldPath         the rule's fieldPath, relative to the node it sits on, or null
 * @param transition        true when it reads oldSelf: then it runs only on update, where the old node exists
 * @param program           the compiled rule
 */
record CelRule(String rule, String message, CelRuntime.Program messageExpression, String fieldPath, boolean transition,
        CelRuntime.Program program) {
}
