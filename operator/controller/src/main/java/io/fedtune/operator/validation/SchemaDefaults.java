package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Structural defaulting as kube-apiserver does it before validation: nulls of non-nullable fields are dropped, each
 * absent property with a default gets a copy of it, and defaulting recurses into every value, defaulted ones included.
 */
final class SchemaDefaults {

    private SchemaDefaults() {
    }

    static void apply(JsonNode instance, JSONSchemaProps schema) {
        if (instance == null || schema == null) {
            return;
        }
        if (instance instanceof ObjectNode object) {
            applyToObject(object, schema);
        } else if (instance instanceof ArrayNode array && schema.getItems() != null && schema.getItems().getSchema() != null) {
            array.forEach(item -> apply(item, schema.getItems().getSchema()));
        }
    }

    private static void applyToObject(ObjectNode object, JSONSchemaProps schema) {
        Map<String, JSONSchemaProps> properties = schema.getProperties();
        if (properties != null && !properties.isEmpty()) {
            for (Map.Entry<String, JSONSchemaProps> property : properties.entrySet()) {
                String name = property.getKey();
                JSONSchemaProps propertySchema = property.getValue();
                JsonNode value = object.get(name);
                if (value != null && value.isNull() && !Boolean.TRUE.equals(propertySchema.getNullable())) {
                    object.remove(name);
                    value = null;
                }
                if (value == null && propertySchema.getDefault() != null) {
                    object.set(name, propertySchema.getDefault().deepCopy());
                }
                apply(object.get(name), propertySchema);
            }
        } else if (schema.getAdditionalProperties() != null && schema.getAdditionalProperties().getSchema() != null) {
            JSONSchemaProps valueSchema = schema.getAdditionalProperties().getSchema();
            List<JsonNode> values = new ArrayList<>();
            object.elements().forEachRemaining(values::add);
            values.forEach(v -> apply(v, valueSchema));
        }
    }
}
