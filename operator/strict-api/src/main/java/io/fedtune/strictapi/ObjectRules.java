package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The API server's validation of the objects fedtune writes, worded as k8s.io/apimachinery and
 * pkg/apis/core/validation word it (Kubernetes 1.29+): object metadata of every kind ({@link MetadataRules}), and for
 * pods ({@link PodRules}), ConfigMaps ({@link ConfigMapRules}) and Events ({@link EventRules}) what their own validation
 * adds. Not the whole of it: the rules fedtune's objects can break.
 */
public final class ObjectRules {
    private ObjectRules() {
    }

    /**
     * What the API server's decoding refuses before validation (400 BadRequest): a resource quantity that does not
     * parse, anywhere in a pod's containers.
     */
    public static Optional<String> decodeError(JsonNode object) {
        if (!"Pod".equals(object.path("kind").asText())) {
            return Optional.empty();
        }
        return PodRules.decodeError(object.path("spec"));
    }

    /** Every field of the object (after defaulting) that the API server would refuse; empty when it would store it. */
    public static List<FieldError> validate(JsonNode object) {
        List<FieldError> errors = new ArrayList<>();
        String kind = object.path("kind").asText();
        MetadataRules.validate(object.path("metadata"), kind, errors);
        switch (kind) {
            case "Pod" -> PodRules.validate(object.path("spec"), errors);
            case "ConfigMap" -> ConfigMapRules.validate(object, errors);
            case "Event" -> EventRules.validate(object, errors);
            default -> {
            }
        }
        return errors;
    }
}
