package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ValidateObjectMeta for every kind: name (a DNS-1123 subdomain, a label for Namespaces), namespace, labels, annotation
 * keys and their 256 KiB total, owner references and finalizers.
 */
final class MetadataRules {
    static final long ANNOTATIONS_MAX = 256 * 1024;

    private MetadataRules() {
    }

    static void validate(JsonNode meta, String kind, List<FieldError> errors) {
        String name = meta.path("name").asText("");
        if (name.isEmpty()) {
            if (meta.path("generateName").asText("").isEmpty()) {
                errors.add(new FieldError("metadata.name", "FieldValueRequired", null, "name or generateName is required"));
            }
        } else if ("Namespace".equals(kind)) {
            NameRules.dnsLabel("metadata.name", name, errors);
        } else {
            NameRules.dnsSubdomain("metadata.name", name, errors);
        }
        String namespace = meta.path("namespace").asText("");
        if (!namespace.isEmpty()) {
            NameRules.dnsLabel("metadata.namespace", namespace, errors);
        }
        NameRules.labels("metadata.labels", meta.path("labels"), errors);
        annotations(meta.path("annotations"), errors);
        ownerReferences(meta.path("ownerReferences"), errors);
        int i = 0;
        for (JsonNode finalizer : meta.path("finalizers")) {
            NameRules.qualifiedName("metadata.finalizers[" + i++ + "]", finalizer.asText(), errors);
        }
    }

    private static void annotations(JsonNode annotations, List<FieldError> errors) {
        long size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = annotations.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> a = it.next();
            NameRules.qualifiedName("metadata.annotations", a.getKey().toLowerCase(Locale.ROOT), errors);
            size += bytes(a.getKey()) + bytes(a.getValue().asText());
        }
        if (size > ANNOTATIONS_MAX) {
            errors.add(FieldError.tooLong("metadata.annotations", ANNOTATIONS_MAX));
        }
    }

    private static void ownerReferences(JsonNode refs, List<FieldError> errors) {
        int controllers = 0;
        int i = 0;
        for (JsonNode ref : refs) {
            String at = "metadata.ownerReferences[" + i++ + "]";
            for (String field : List.of("apiVersion", "kind", "name", "uid")) {
                if (ref.path(field).asText("").isEmpty()) {
                    errors.add(FieldError.required(at + "." + field));
                }
            }
            if (ref.path("controller").asBoolean(false)) {
                controllers++;
            }
        }
        if (controllers > 1) {
            errors.add(FieldError.invalid("metadata.ownerReferences", null, "Only one reference can have Controller set to true"));
        }
    }

    static long bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
