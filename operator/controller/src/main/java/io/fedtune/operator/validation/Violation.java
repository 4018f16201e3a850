package io.fedtune.operator.validation;

/**
 * One way a resource breaks its CRD schema or CEL rules.
 *
 * @param field   the offending field's path, e.g. spec.lora.rank
 * @param message what is wrong and how to fix it; always names the field
 */
public record Violation(String field, String message) {
    @Override
    public String toString() {
        return message;
    }
}
