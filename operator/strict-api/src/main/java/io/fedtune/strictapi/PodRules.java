package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * ValidatePodSpec's rules that fedtune's pods can break: volumes, restart policy, node selector, service account and
 * priority class; each container's own rules are {@link ContainerRules}.
 */
final class PodRules {
    private PodRules() {
    }

    /** A resource quantity that does not parse, in any container: decoding refuses it before validation. */
    static Optional<String> decodeError(JsonNode spec) {
        for (JsonNode container : containers(spec)) {
            for (String section : List.of("limits", "requests")) {
                for (Iterator<Map.Entry<String, JsonNode>> it = container.path("resources").path(section).fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> q = it.next();
                    if (ResourceQuantity.parse(q.getValue().asText()).isEmpty()) {
                        return Optional.of(ResourceQuantity.MSG);
                    }
                }
            }
        }
        return Optional.empty();
    }

    static void validate(JsonNode spec, List<FieldError> errors) {
        Set<String> volumes = volumes(spec.path("volumes"), errors);
        if (spec.path("containers").isEmpty()) {
            errors.add(FieldError.required("spec.containers"));
        }
        Set<String> containerNames = new HashSet<>();
        for (String list : List.of("initContainers", "containers")) {
            int i = 0;
            for (JsonNode container : spec.path(list)) {
                ContainerRules.validate("spec." + list + "[" + i++ + "]", container, volumes, containerNames, errors);
            }
        }
        String restart = spec.path("restartPolicy").asText("Always");
        if (!List.of("Always", "OnFailure", "Never").contains(restart)) {
            errors.add(FieldError.notSupported("spec.restartPolicy", restart, "Always", "OnFailure", "Never"));
        }
        NameRules.labels("spec.nodeSelector", spec.path("nodeSelector"), errors);
        for (String field : List.of("serviceAccountName", "priorityClassName")) {
            String value = spec.path(field).asText("");
            if (!value.isEmpty()) {
                NameRules.dnsSubdomain("spec." + field, value, errors);
            }
        }
    }

    /** The names of the pod's volumes, for its containers' mounts. */
    private static Set<String> volumes(JsonNode list, List<FieldError> errors) {
        Set<String> volumes = new HashSet<>();
        int i = 0;
        for (JsonNode volume : list) {
            String at = "spec.volumes[" + i++ + "]";
            NameRules.uniqueDnsLabel(at + ".name", volume.path("name").asText(""), volumes, errors);
            if (volume.has("configMap")) {
                String cm = volume.path("configMap").path("name").asText("");
                if (cm.isEmpty()) {
                    errors.add(FieldError.required(at + ".configMap.name"));
                } else {
                    NameRules.dnsSubdomain(at + ".configMap.name", cm, errors);
                }
            }
        }
        return volumes;
    }

    private static List<JsonNode> containers(JsonNode spec) {
        List<JsonNode> out = new ArrayList<>();
        spec.path("initContainers").forEach(out::add);
        spec.path("containers").forEach(out::add);
        return out;
    }
}
