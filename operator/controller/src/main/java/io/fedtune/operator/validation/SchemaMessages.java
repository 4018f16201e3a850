package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.path.NodePath;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Says what is wrong with a field and what it expects, in the words of the field's own schema. */
final class SchemaMessages {
    private final ObjectNode draft4;

    SchemaMessages(ObjectNode draft4) {
        this.draft4 = draft4;
    }

    Violation toViolation(Error error) {
        FieldPath path = fieldPath(error.getInstanceLocation());
        JsonNode fieldSchema = draft4.at(parentPointer(error.getEvaluationPath().toString()));
        String got = describeValue(error.getInstanceNode());
        String keyword = error.getKeyword() == null ? "" : error.getKeyword();
        if (error.getEvaluationPath().toString().contains("/anyOf/")) {
            return anyOf(path, got);
        }
        return switch (keyword) {
            case "maximum" -> at(path, (fieldSchema.path("exclusiveMaximum").asBoolean() ? "must be less than " : "must be at most ")
                    + number(fieldSchema.path("maximum")) + " (got " + got + ")");
            case "minimum" -> at(path, (fieldSchema.path("exclusiveMinimum").asBoolean() ? "must be greater than " : "must be at least ")
                    + number(fieldSchema.path("minimum")) + " (got " + got + ")");
            case "enum" -> at(path, "must be one of " + values(fieldSchema.path("enum")) + " (got " + got + ")");
            case "pattern" -> at(path, got + " is not in the expected form " + fieldSchema.path("pattern").asText()
                    + hint(fieldSchema));
            case "required" -> {
                String missing = String.valueOf(error.getArguments()[0]);
                FieldPath missingPath = path.isRoot() ? FieldPath.root().field(missing) : path.field(missing);
                yield at(missingPath, "required field is missing; add it" + hint(fieldSchema.path("properties").path(missing)));
            }
            case "additionalProperties" -> {
                String unknown = String.valueOf(error.getArguments()[0]);
                yield at(path.field(unknown), "unknown field; remove it or use one of "
                        + names(fieldSchema.path("properties")) + " (check the spelling and indentation)");
            }
            case "type" -> at(path, "must be " + article(fieldSchema.path("type").asText()) + " (got " + got + ")");
            case "maxItems" -> at(path, "must have at most " + fieldSchema.path("maxItems").asInt() + " items (got "
                    + error.getInstanceNode().size() + ")");
            case "minItems" -> at(path, "must have at least " + fieldSchema.path("minItems").asInt() + " item(s) (got "
                    + error.getInstanceNode().size() + ")");
            case "maxLength" -> at(path, "must be at most " + fieldSchema.path("maxLength").asInt() + " characters long");
            case "minLength" -> at(path, "must be at least " + fieldSchema.path("minLength").asInt() + " characters long");
            default -> at(path, error.getMessage());
        };
    }

    /** int-or-string fields (resource quantities) fail every branch of their anyOf: one message says it once. */
    private static Violation anyOf(FieldPath path, String got) {
        return at(path, "must be an integer or a quantity string such as 500m, 2, 16Gi (got " + got + ")");
    }

    static boolean isSecondaryAnyOfBranch(Error error, List<Error> earlier) {
        if (!error.getEvaluationPath().toString().contains("/anyOf/")) {
            return false;
        }
        return earlier.stream().anyMatch(e -> e.getEvaluationPath().toString().contains("/anyOf/")
                && e.getInstanceLocation().equals(error.getInstanceLocation()));
    }

    private static Violation at(FieldPath path, String problem) {
        return new Violation(path.toString(), path + ": " + problem);
    }

    private static FieldPath fieldPath(NodePath location) {
        FieldPath path = FieldPath.root();
        for (int i = 0; i < location.getNameCount(); i++) {
            Object element = location.getElement(i);
            path = element instanceof Integer index ? path.index(index) : path.field(String.valueOf(element));
        }
        return path;
    }

    /** "/properties/spec/properties/rounds/minimum" names the keyword; its schema is the parent. */
    private static String parentPointer(String evaluationPath) {
        int slash = evaluationPath.lastIndexOf('/');
        return slash <= 0 ? "" : evaluationPath.substring(0, slash);
    }

    private static String hint(JsonNode fieldSchema) {
        String description = fieldSchema.path("description").asText("");
        return description.isEmpty() ? "" : " (" + description + ")";
    }

    private static String number(JsonNode n) {
        double d = n.asDouble();
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static String values(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return String.join(", ", out);
    }

    private static String names(JsonNode properties) {
        List<String> out = new ArrayList<>();
        properties.fieldNames().forEachRemaining(out::add);
        return out.stream().sorted().collect(Collectors.joining(", "));
    }

    private static String article(String type) {
        return switch (type) {
            case "integer", "object", "array" -> "an " + type;
            case "" -> "a value of the declared type";
            default -> "a " + type;
        };
    }

    private static String describeValue(tools.jackson.databind.JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return "nothing";
        }
        if (value.isString()) {
            return "\"" + value.asString() + "\"";
        }
        if (value.isObject()) {
            return "an object";
        }
        if (value.isArray()) {
            return "a list";
        }
        return value.toString();
    }
}
