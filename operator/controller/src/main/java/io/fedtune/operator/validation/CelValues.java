package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A JSON value as CEL sees it, typed by its schema: a number field is a double even when written as 1. */
final class CelValues {

    private CelValues() {
    }

    static Object of(JsonNode value, JSONSchemaProps schema) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return dev.cel.common.values.NullValue.NULL_VALUE;
        }
        String type = schema == null || schema.getType() == null ? "" : schema.getType();
        if (value.isNumber()) {
            if (type.equals("number")) {
                return value.asDouble();
            }
            return value.isIntegralNumber() ? (Object) value.asLong() : (Object) value.asDouble();
        }
        if (value.isTextual()) {
            return value.asText();
        }
        if (value.isBoolean()) {
            return value.asBoolean();
        }
        if (value.isArray()) {
            JSONSchemaProps items = schema == null || schema.getItems() == null ? null : schema.getItems().getSchema();
            List<Object> list = new ArrayList<>(value.size());
            value.forEach(item -> list.add(of(item, items)));
            return Collections.unmodifiableList(list);
        }
        Map<String, Object> map = new LinkedHashMap<>();
        value.fields().forEachRemaining(field -> map.put(field.getKey(), of(field.getValue(), fieldSchema(schema, field.getKey()))));
        return Collections.unmodifiableMap(map);
    }

    private static JSONSchemaProps fieldSchema(JSONSchemaProps schema, String field) {
        if (schema == null) {
            return null;
        }
        if (schema.getProperties() != null && schema.getProperties().containsKey(field)) {
            return schema.getProperties().get(field);
        }
        return schema.getAdditionalProperties() == null ? null : schema.getAdditionalProperties().getSchema();
    }
}
