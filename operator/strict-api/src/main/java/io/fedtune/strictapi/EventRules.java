package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** ValidateEvent (core/v1): the involved object's namespace must be the event's own. */
final class EventRules {
    private EventRules() {
    }

    static void validate(JsonNode event, List<FieldError> errors) {
        String namespace = event.path("metadata").path("namespace").asText("");
        String involved = event.path("involvedObject").path("namespace").asText("");
        if (involved.isEmpty() ? !(namespace.isEmpty() || namespace.equals("default")) : !involved.equals(namespace)) {
            errors.add(FieldError.invalid("involvedObject.namespace", involved, "does not match event.namespace"));
        }
    }
}
