package io.fedtune.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ClientShardSpec;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The mock API server of tests and local mode applies no schema defaults, so the operator relies on the Java field
 * initialisers; in a cluster the CRD's defaults apply. Both must say the same, field by field.
 */
class DefaultsMatchSchemaTest {
    private static final String API_PACKAGE = FederatedRun.class.getPackageName();

    @Test
    void everySchemaDefaultEqualsTheJavaInitialiserAndViceVersa() throws Exception {
        List<String> mismatches = new ArrayList<>();
        List<String> compared = new ArrayList<>();
        compare(FederatedRunSpec.class, specSchema(FederatedRun.class), "FederatedRun.spec", mismatches, compared);
        compare(ClientShardSpec.class, specSchema(ClientShard.class), "ClientShard.spec", mismatches, compared);

        assertThat(compared).as("fields with defaults that were compared").hasSizeGreaterThan(30)
                .contains("FederatedRun.spec.lora.rank", "FederatedRun.spec.participation.roundTimeout", "ClientShard.spec.weight");
        assertThat(mismatches).withFailMessage("Schema @Default and Java initialiser differ:%n  %s", String.join("\n  ", mismatches))
                .isEmpty();
    }

    private static JSONSchemaProps specSchema(Class<?> kind) {
        return CrdFiles.generated(kind).getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec");
    }

    private static void compare(Class<?> type, JSONSchemaProps schema, String path, List<String> mismatches, List<String> compared)
            throws Exception {
        Object instance = type.getDeclaredConstructor().newInstance();
        JsonNode initialised = Serialization.jsonMapper().valueToTree(instance);
        for (Field field : type.getFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            String name = field.isAnnotationPresent(JsonProperty.class) ? field.getAnnotation(JsonProperty.class).value() : field.getName();
            JSONSchemaProps property = schema.getProperties().get(name);
            String at = path + "." + name;
            assertThat(property).as("schema property for " + at).isNotNull();
            JsonNode javaDefault = initialised.get(name);
            JsonNode schemaDefault = property.getDefault();
            if (schemaDefault != null || (javaDefault != null && !javaDefault.isNull())) {
                compared.add(at);
                if (!sameValue(schemaDefault, javaDefault)) {
                    mismatches.add(at + ": schema default " + schemaDefault + ", Java initialiser " + javaDefault);
                }
            }
            Class<?> nested = apiClass(field.getGenericType());
            if (nested != null) {
                JSONSchemaProps nestedSchema = List.class.isAssignableFrom(field.getType()) ? property.getItems().getSchema() : property;
                compare(nested, nestedSchema, at, mismatches, compared);
            }
        }
    }

    /** The API class a field holds (directly or as list items), unless it is an enum or another library's type. */
    private static Class<?> apiClass(Type type) {
        Type element = type instanceof ParameterizedType p && List.class.equals(p.getRawType()) ? p.getActualTypeArguments()[0] : type;
        if (element instanceof Class<?> c && c.getPackageName().equals(API_PACKAGE) && !c.isEnum()) {
            return c;
        }
        return null;
    }

    private static boolean sameValue(JsonNode a, JsonNode b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return false;
            }
            var names = a.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                if (!sameValue(a.get(n), b.get(n))) {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!sameValue(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }
}
