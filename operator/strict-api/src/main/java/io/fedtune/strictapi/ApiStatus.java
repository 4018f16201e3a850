package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.util.List;

/** The Status bodies kube-apiserver answers refusals with (k8s.io/apimachinery pkg/api/errors). */
final class ApiStatus {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ApiStatus() {
    }

    /** NewForbidden: "RESOURCE[.GROUP] "NAME" is forbidden: REASON". */
    static MockResponse forbidden(String group, String resource, String name, String reason) {
        String qualified = group.isEmpty() ? resource : resource + "." + group;
        String message = resource.isEmpty() ? "forbidden: " + reason
                : name.isEmpty() ? qualified + " is forbidden: " + reason
                : qualified + " \"" + name + "\" is forbidden: " + reason;
        ObjectNode details = JSON.createObjectNode();
        if (!name.isEmpty()) {
            details.put("name", name);
        }
        if (!group.isEmpty()) {
            details.put("group", group);
        }
        details.put("kind", resource);
        return status(403, "Forbidden", message, details);
    }

    /** NewInvalid: "KIND[.GROUP] "NAME" is invalid: ERRORS", one cause per field. */
    static MockResponse invalid(String group, String kind, String name, List<FieldError> errors) {
        String qualified = group.isEmpty() ? kind : kind + "." + group;
        String aggregate = errors.size() == 1 ? errors.get(0).toString()
                : "[" + String.join(", ", errors.stream().map(FieldError::toString).toList()) + "]";
        ObjectNode details = JSON.createObjectNode().put("name", name);
        if (!group.isEmpty()) {
            details.put("group", group);
        }
        details.put("kind", kind);
        ArrayNode causes = details.putArray("causes");
        errors.forEach(e -> causes.addObject().put("reason", e.type()).put("message", e.causeMessage()).put("field", e.field()));
        return status(422, "Invalid", qualified + " \"" + name + "\" is invalid: " + aggregate, details);
    }

    static MockResponse badRequest(String message) {
        return status(400, "BadRequest", message, null);
    }

    private static MockResponse status(int code, String reason, String message, ObjectNode details) {
        ObjectNode status = JSON.createObjectNode().put("kind", "Status").put("apiVersion", "v1");
        status.putObject("metadata");
        status.put("status", "Failure").put("message", message).put("reason", reason);
        if (details != null) {
            status.set("details", details);
        }
        status.put("code", code);
        return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json").setBody(status.toString());
    }

    static String message(MockResponse response) {
        try {
            return JSON.readTree(response.getBody().getBytes()).path("message").asText();
        } catch (Exception e) {
            return new String(response.getBody().getBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
