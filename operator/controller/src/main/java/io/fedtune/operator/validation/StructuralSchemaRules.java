package io.fedtune.operator.validation;

import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The structural-schema rules that apiextensions-apiserver applies to a CRD version's schema before it admits the CRD,
 * in the subset fedtune's generated schemas can break: every node has a type (unless int-or-string or
 * preserve-unknown-fields), known types only, arrays have one items schema, properties and additionalProperties are
 * not combined, int-or-string sets no type, root metadata constrains only name and generateName, and
 * x-kubernetes-validations are well-formed (a message without line breaks, one when the rule spans lines, no oldSelf
 * inside the items of a list other than a list-type map, whose items the API server cannot pair across updates).
 * Defaults are checked against their schema by the API module's DefaultsMatchSchemaTest; the finer rules (value
 * validations inside allOf/anyOf/oneOf/not, list-map keys) are not repeated here.
 */
final class StructuralSchemaRules {
    private static final Set<String> TYPES = Set.of("string", "number", "integer", "boolean", "array", "object");

    private StructuralSchemaRules() {
    }

    static List<Violation> check(JSONSchemaProps root) {
        List<Violation> out = new ArrayList<>();
        if (!"object".equals(root.getType())) {
            out.add(at("<root>", "the root of the schema must be of type object"));
        }
        JSONSchemaProps metadata = root.getProperties() == null ? null : root.getProperties().get("metadata");
        if (metadata != null && metadata.getProperties() != null) {
            for (String field : metadata.getProperties().keySet()) {
                if (!field.equals("name") && !field.equals("generateName")) {
                    out.add(at("metadata." + field, "only metadata.name and metadata.generateName may be specified"));
                }
            }
        }
        node(root, "", false, out);
        return out;
    }

    private static void node(JSONSchemaProps s, String path, boolean inUncorrelatableItems, List<Violation> out) {
        String where = path.isEmpty() ? "<root>" : path;
        boolean intOrString = Boolean.TRUE.equals(s.getXKubernetesIntOrString());
        boolean preserveUnknown = Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields());
        String type = s.getType() == null ? "" : s.getType();
        if (intOrString && !type.isEmpty()) {
            out.add(at(where, "type must be empty when x-kubernetes-int-or-string is true"));
        } else if (type.isEmpty() && !intOrString && !preserveUnknown) {
            out.add(at(where, "type must not be empty (structural schema)"));
        } else if (!type.isEmpty() && !TYPES.contains(type)) {
            out.add(at(where, "type " + type + " is not one of " + TYPES));
        }
        if (type.equals("array") && (s.getItems() == null || s.getItems().getSchema() == null)) {
            out.add(at(where, "an array must have one items schema"));
        }
        boolean additional = s.getAdditionalProperties() != null
                && (s.getAdditionalProperties().getSchema() != null || Boolean.TRUE.equals(s.getAdditionalProperties().getAllows()));
        if (additional && s.getProperties() != null && !s.getProperties().isEmpty()) {
            out.add(at(where, "properties and additionalProperties are mutually exclusive"));
        }
        rules(s, where, inUncorrelatableItems, out);
        if (s.getProperties() != null) {
            for (Map.Entry<String, JSONSchemaProps> p : s.getProperties().entrySet()) {
                node(p.getValue(), path.isEmpty() ? p.getKey() : path + "." + p.getKey(), inUncorrelatableItems, out);
            }
        }
        if (s.getItems() != null && s.getItems().getSchema() != null) {
            boolean listMap = "map".equals(s.getXKubernetesListType());
            node(s.getItems().getSchema(), path + "[]", inUncorrelatableItems || !listMap, out);
        }
        if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
            node(s.getAdditionalProperties().getSchema(), path + "[*]", inUncorrelatableItems, out);
        }
    }

    private static void rules(JSONSchemaProps s, String where, boolean inUncorrelatableItems, List<Violation> out) {
        List<ValidationRule> rules = s.getXKubernetesValidations();
        if (rules == null) {
            return;
        }
        for (int i = 0; i < rules.size(); i++) {
            ValidationRule rule = rules.get(i);
            String at = where + " x-kubernetes-validations[" + i + "]";
            String text = rule.getRule() == null ? "" : rule.getRule().trim();
            String message = rule.getMessage() == null ? "" : rule.getMessage().trim();
            if (text.isEmpty()) {
                out.add(new Violation(where, at + ": rule must not be empty"));
            }
            if (message.contains("\n") || message.contains("\r")) {
                out.add(new Violation(where, at + ": message must not contain line breaks"));
            }
            if ((text.contains("\n") || text.contains("\r")) && message.isEmpty()) {
                out.add(new Violation(where, at + ": message must be given when the rule spans lines"));
            }
            if (inUncorrelatableItems && text.contains("oldSelf")) {
                out.add(new Violation(where, at + ": oldSelf cannot be used inside the items of a list that is not "
                        + "x-kubernetes-list-type: map (the API server cannot pair old and new items)"));
            }
        }
    }

    private static Violation at(String where, String problem) {
        return new Violation(where, where + ": " + problem);
    }
}
