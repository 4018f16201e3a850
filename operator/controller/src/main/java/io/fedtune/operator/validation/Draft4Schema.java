package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Turns a CRD's OpenAPI v3 structural schema into a JSON Schema draft 4 document. Draft 4 is the dialect whose
 * {@code exclusiveMinimum: true} next to {@code minimum} means what the CRD means. The x-kubernetes extensions are
 * dropped (CEL rules run separately) except where they change what is valid: int-or-string becomes an anyOf, and an
 * object without preserve-unknown-fields refuses unknown fields, as kubectl's strict field validation does.
 */
final class Draft4Schema {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Draft4Schema() {
    }

    /** The draft 4 document for a kind's root schema; apiVersion, kind and metadata are the API server's business. */
    static ObjectNode fromRoot(JSONSchemaProps root) {
        ObjectNode schema = translate(Serialization.jsonMapper().valueToTree(root));
        ObjectNode properties = schema.has("properties") ? (ObjectNode) schema.get("properties") : schema.putObject("properties");
        properties.set("apiVersion", NODES.objectNode().put("type", "string"));
        properties.set("kind", NODES.objectNode().put("type", "string"));
        properties.set("metadata", NODES.objectNode().put("type", "object"));
        // status is written through its own subresource; writes of the resource itself ignore it.
        properties.remove("status");
        schema.put("$schema", "http://json-schema.org/draft-04/schema#");
        return schema;
    }

    private static ObjectNode translate(JsonNode openApi) {
        ObjectNode out = NODES.objectNode();
        Iterator<Map.Entry<String, JsonNode>> fields = openApi.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String keyword = field.getKey();
            JsonNode value = field.getValue();
            if (keyword.startsWith("x-kubernetes-") || keyword.equals("default")) {
                continue;
            }
            switch (keyword) {
                case "properties" -> {
                    ObjectNode properties = out.putObject("properties");
                    value.fields().forEachRemaining(p -> properties.set(p.getKey(), translate(p.getValue())));
                }
                case "items", "additionalProperties", "not" -> out.set(keyword, value.isObject() ? translate(value) : value);
                case "anyOf", "allOf", "oneOf" -> {
                    List<JsonNode> branches = new ArrayList<>();
                    value.forEach(b -> branches.add(translate(b)));
                    out.putArray(keyword).addAll(branches);
                }
                default -> out.set(keyword, value.deepCopy());
            }
        }
        boolean intOrString = openApi.path("x-kubernetes-int-or-string").asBoolean(false);
        if (intOrString && !out.has("anyOf")) {
            out.putArray("anyOf").add(NODES.objectNode().put("type", "integer")).add(NODES.objectNode().put("type", "string"));
        }
        boolean preserveUnknown = openApi.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        if (out.has("properties") && !out.has("additionalProperties") && !preserveUnknown) {
            out.put("additionalProperties", false);
        }
        return out;
    }
}
