package io.fedtune.operator.validation;

import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;

/** The schema a CEL value comes from, with its path for messages, e.g. spec.evaluation.datasets[].name. */
record SchemaNode(JSONSchemaProps schema, String path, boolean mapKey) {

    static SchemaNode of(JSONSchemaProps schema, String path) {
        return new SchemaNode(schema, path, false);
    }

    long maxElements() {
        // map keys are typed as the API server's plain string type, which carries no size
        return mapKey ? 0 : SchemaSizes.maxElements(schema);
    }

    /** The node of one of this object's properties, or null where the schema does not declare it. */
    SchemaNode field(String name) {
        if (mapKey || schema.getProperties() == null) {
            return null;
        }
        JSONSchemaProps field = schema.getProperties().get(name);
        return field == null ? null : of(field, path.isEmpty() ? name : path + "." + name);
    }

    /** The node of this list's items. */
    SchemaNode item() {
        return of(SchemaSizes.items(schema), path + "[]");
    }

    /** The node of this map's keys. */
    SchemaNode key() {
        return new SchemaNode(null, path + " keys", true);
    }

    /** The node of this map's values, or null where the schema gives them none. */
    SchemaNode value() {
        JSONSchemaProps values = SchemaSizes.values(schema);
        return values == null ? null : of(values, path + "[*]");
    }
}
