package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks fedtune resources against the generated CRDs as the API server would: defaults, then the structural schema,
 * then the CEL rules. Everything that can be prepared (schemas, CEL programs) is prepared once, in the constructor;
 * instances are thread-safe.
 */
public final class CrdSchemaValidator implements ResourceValidator {
    private final Map<String, KindCheck> byKind = new LinkedHashMap<>();

    /** Validates FederatedRun and ClientShard. */
    public CrdSchemaValidator() {
        this(List.of(FederatedRun.class, ClientShard.class));
    }

    CrdSchemaValidator(List<Class<? extends HasMetadata>> kinds) {
        for (Class<? extends HasMetadata> kind : kinds) {
            CrdSchema schema = CrdSchema.of(kind);
            byKind.put(key(schema.apiVersion(), schema.kind()), new KindCheck(schema));
        }
    }

    /** Whether this validator knows the resource's apiVersion and kind. */
    public boolean handles(HasMetadata resource) {
        return byKind.containsKey(key(resource.getApiVersion(), resource.getKind()));
    }

    @Override
    public List<Violation> validate(HasMetadata resource, HasMetadata old) {
        KindCheck check = byKind.get(key(resource.getApiVersion(), resource.getKind()));
        if (check == null) {
            throw new IllegalArgumentException("no CRD schema for " + resource.getApiVersion() + " " + resource.getKind()
                    + "; known: " + byKind.keySet());
        }
        return check.validate(resource, old);
    }

    private static String key(String apiVersion, String kind) {
        return apiVersion + "/" + kind;
    }

    private static final class KindCheck {
        private final CrdSchema schema;
        private final StructuralCheck structural;
        private final CelRuleCheck rules;

        KindCheck(CrdSchema schema) {
            this.schema = schema;
            this.structural = new StructuralCheck(schema.root());
            this.rules = new CelRuleCheck(schema.kind(), schema.root());
        }

        List<Violation> validate(HasMetadata resource, HasMetadata old) {
            ObjectNode object = defaulted(resource);
            List<Violation> violations = new ArrayList<>(structural.check(object));
            JsonNode oldObject = old == null ? null : defaulted(old);
            violations.addAll(rules.check(object, oldObject, violations.isEmpty()));
            return violations;
        }

        /** A defaulted copy of what a write to the resource would store; status goes through its own subresource. */
        private ObjectNode defaulted(HasMetadata resource) {
            ObjectNode object = Serialization.jsonMapper().valueToTree(resource);
            object.remove("status");
            SchemaDefaults.apply(object, schema.root());
            return object;
        }
    }
}
