package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The worst-case sizes kube-apiserver (1.29 and later) assumes for data of a schema when it estimates the cost of CEL
 * rules: where a schema sets no maxLength, maxItems or maxProperties, a value is assumed to fill a whole request of
 * {@link #MAX_REQUEST_SIZE_BYTES}. Mirrors k8s.io/apiserver/pkg/cel/common/schemas.go ({@code SchemaDeclType},
 * {@code estimateMaxStringLengthPerRequest}, {@code estimateMaxArrayItemsFromMinSize}) and the cardinality rule of
 * apiextensions' {@code maxCardinality}.
 */
final class SchemaSizes {
    /** The API server's request body limit that unbounded sizes are derived from. */
    static final long MAX_REQUEST_SIZE_BYTES = 3L * 1024 * 1024;
    /** Bytes of the longest string that fits in a request ({@code ""} taken off). */
    static final long UNBOUNDED_STRING_LENGTH = MAX_REQUEST_SIZE_BYTES - 2;
    /** Sizes of JSON forms of formatted strings (apiserver/pkg/cel/limits.go). */
    private static final long MAX_DURATION_SIZE_JSON = 32;
    private static final long MAX_DATETIME_SIZE_JSON = 32;
    private static final long MIN_DURATION_SIZE_JSON = 3;
    private static final long JSON_DATE_SIZE = 12;
    private static final long MIN_DATETIME_SIZE_JSON = 21;
    private static final Set<String> TYPES = Set.of("string", "number", "integer", "boolean", "array", "object");

    private SchemaSizes() {
    }

    /** Whether CEL sees values of this schema at all (the API server leaves untyped fields out of the CEL types). */
    static boolean exposed(JSONSchemaProps s) {
        if (s == null) {
            return false;
        }
        if (intOrString(s)) {
            return true;
        }
        String type = type(s);
        if (type.equals("array")) {
            return items(s) != null && exposed(items(s));
        }
        if (type.equals("object") && values(s) != null) {
            return exposed(values(s));
        }
        return TYPES.contains(type);
    }

    /**
     * The size CEL's cost estimator uses for a value of the schema: bytes of a string, items of a list, entries of a
     * map; 0 for objects, numbers and booleans (the API server gives them no size).
     */
    static long maxElements(JSONSchemaProps s) {
        if (intOrString(s)) {
            return s.getMaxLength() != null ? nonNegative(s.getMaxLength()) * 4 : UNBOUNDED_STRING_LENGTH;
        }
        return switch (type(s)) {
            case "string" -> stringMaxElements(s);
            case "array" -> s.getMaxItems() != null ? nonNegative(s.getMaxItems())
                    : (MAX_REQUEST_SIZE_BYTES - 2) / (minSerializedSize(items(s)) + 1);
            case "object" -> values(s) == null ? 0 : s.getMaxProperties() != null ? nonNegative(s.getMaxProperties())
                    // a key of at least "": plus colon, comma and the smallest value
                    : (MAX_REQUEST_SIZE_BYTES - 2) / (minSerializedSize(values(s)) + 6);
            default -> 0;
        };
    }

    private static long stringMaxElements(JSONSchemaProps s) {
        String format = s.getFormat() == null ? "" : s.getFormat();
        switch (format) {
            case "byte":
                return s.getMaxLength() != null ? nonNegative(s.getMaxLength()) : UNBOUNDED_STRING_LENGTH;
            case "duration":
                return MAX_DURATION_SIZE_JSON;
            case "date":
                return JSON_DATE_SIZE;
            case "date-time":
                return MAX_DATETIME_SIZE_JSON;
            default:
                break;
        }
        if (s.getMaxLength() != null) {
            // maxLength counts code points; a code point takes up to 4 bytes
            return nonNegative(s.getMaxLength()) * 4;
        }
        if (s.getEnum() != null && !s.getEnum().isEmpty()) {
            return longestEnumValue(s.getEnum());
        }
        return UNBOUNDED_STRING_LENGTH;
    }

    /**
     * The limit to add so the size stops being derived from the request size, e.g. "maxLength"; null when the
     * schema bounds it already.
     */
    static String missingLimit(JSONSchemaProps s) {
        if (intOrString(s)) {
            return s.getMaxLength() == null ? "maxLength" : null;
        }
        return switch (type(s)) {
            case "string" -> {
                String format = s.getFormat() == null ? "" : s.getFormat();
                boolean fixed = format.equals("duration") || format.equals("date") || format.equals("date-time");
                boolean enumerated = !format.equals("byte") && s.getEnum() != null && !s.getEnum().isEmpty();
                yield fixed || enumerated || s.getMaxLength() != null ? null : "maxLength";
            }
            case "array" -> s.getMaxItems() == null ? "maxItems" : null;
            case "object" -> values(s) != null && s.getMaxProperties() == null ? "maxProperties" : null;
            default -> null;
        };
    }

    /** The smallest JSON a value of the schema can be written as; objects count required fields without defaults. */
    static long minSerializedSize(JSONSchemaProps s) {
        if (intOrString(s)) {
            return 1;
        }
        return switch (type(s)) {
            case "string" -> switch (s.getFormat() == null ? "" : s.getFormat()) {
                case "duration" -> MIN_DURATION_SIZE_JSON;
                case "date" -> JSON_DATE_SIZE;
                case "date-time" -> MIN_DATETIME_SIZE_JSON;
                default -> 2;
            };
            case "boolean" -> 4;
            case "number", "integer" -> 1;
            case "array" -> 2;
            case "object" -> values(s) != null ? 2 : objectMinSize(s);
            default -> 0;
        };
    }

    private static long objectMinSize(JSONSchemaProps s) {
        long size = 2;
        List<String> required = s.getRequired() == null ? List.of() : s.getRequired();
        Map<String, JSONSchemaProps> properties = s.getProperties() == null ? Map.of() : s.getProperties();
        for (Map.Entry<String, JSONSchemaProps> p : properties.entrySet()) {
            JSONSchemaProps prop = p.getValue();
            if (required.contains(p.getKey()) && prop.getDefault() == null && exposed(prop)) {
                size += p.getKey().length() + minSerializedSize(prop) + 4;
            }
        }
        return size;
    }

    /**
     * How many times a rule on a node under lists or maps without maxItems/maxProperties can run in one request:
     * as many copies of the node's smallest JSON as fit, with a comma between them.
     */
    static long unboundedCardinality(JSONSchemaProps s) {
        return MAX_REQUEST_SIZE_BYTES / (minSerializedSize(s) + 1);
    }

    /** How many children each value of the schema has: 1 for object fields and scalars; null when unbounded. */
    static Long childCardinality(JSONSchemaProps s) {
        String type = type(s);
        if (type.equals("object") && s.getAdditionalProperties() != null) {
            return s.getMaxProperties() == null ? null : nonNegative(s.getMaxProperties());
        }
        if (type.equals("array")) {
            return s.getMaxItems() == null ? null : nonNegative(s.getMaxItems());
        }
        return 1L;
    }

    static JSONSchemaProps items(JSONSchemaProps s) {
        return s.getItems() == null ? null : s.getItems().getSchema();
    }

    static JSONSchemaProps values(JSONSchemaProps s) {
        return s.getAdditionalProperties() == null ? null : s.getAdditionalProperties().getSchema();
    }

    static boolean intOrString(JSONSchemaProps s) {
        return Boolean.TRUE.equals(s.getXKubernetesIntOrString());
    }

    static String type(JSONSchemaProps s) {
        return s.getType() == null ? "" : s.getType();
    }

    private static long longestEnumValue(List<JsonNode> values) {
        long longest = 0;
        for (JsonNode v : values) {
            if (v != null && v.isTextual()) {
                longest = Math.max(longest, v.asText().getBytes(StandardCharsets.UTF_8).length);
            }
        }
        return longest;
    }

    private static long nonNegative(Number n) {
        return Math.max(0, n.longValue());
    }
}
