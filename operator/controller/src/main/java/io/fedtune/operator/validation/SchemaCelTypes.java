package io.fedtune.operator.validation;

import com.google.common.collect.ImmutableCollection;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * CEL types derived from a structural schema, as the API server derives them, so a rule that names a field the schema
 * lacks fails to compile here as it would when the CRD is applied. Objects with properties become struct types,
 * objects with additionalProperties maps, int-or-string and preserve-unknown-fields dyn.
 */
final class SchemaCelTypes implements CelTypeProvider {
    private final Map<String, CelType> structs = new LinkedHashMap<>();

    CelType typeOf(JSONSchemaProps schema, String name) {
        if (schema == null || Boolean.TRUE.equals(schema.getXKubernetesIntOrString())
                || Boolean.TRUE.equals(schema.getXKubernetesPreserveUnknownFields())) {
            return SimpleType.DYN;
        }
        String type = schema.getType() == null ? "" : schema.getType();
        return switch (type) {
            case "object" -> objectType(schema, name);
            case "array" -> schema.getItems() == null || schema.getItems().getSchema() == null
                    ? ListType.create(SimpleType.DYN)
                    : ListType.create(typeOf(schema.getItems().getSchema(), name + ".@items"));
            case "string" -> SimpleType.STRING;
            case "integer" -> SimpleType.INT;
            case "number" -> SimpleType.DOUBLE;
            case "boolean" -> SimpleType.BOOL;
            default -> SimpleType.DYN;
        };
    }

    private CelType objectType(JSONSchemaProps schema, String name) {
        Map<String, JSONSchemaProps> properties = schema.getProperties();
        if (properties != null && !properties.isEmpty()) {
            CelType existing = structs.get(name);
            if (existing != null) {
                return existing;
            }
            Map<String, CelType> fields = new LinkedHashMap<>();
            StructType struct = StructType.create(name, ImmutableSet.copyOf(properties.keySet()),
                    field -> Optional.ofNullable(fields.get(field)));
            structs.put(name, struct);
            properties.forEach((field, fieldSchema) -> fields.put(field, typeOf(fieldSchema, name + "." + field)));
            return struct;
        }
        if (schema.getAdditionalProperties() != null && schema.getAdditionalProperties().getSchema() != null) {
            return MapType.create(SimpleType.STRING, typeOf(schema.getAdditionalProperties().getSchema(), name + ".@values"));
        }
        return MapType.create(SimpleType.STRING, SimpleType.DYN);
    }

    @Override
    public ImmutableCollection<CelType> types() {
        return ImmutableList.copyOf(structs.values());
    }

    @Override
    public Optional<CelType> findType(String typeName) {
        return Optional.ofNullable(structs.get(typeName));
    }
}
