package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * A create, update or patch before the mock server stores it: the object stored now ({@code old}, null for a create or
 * when there is none) and the one the write would store ({@code object}, null when the write cannot be read).
 */
record PendingWrite(JsonNode old, JsonNode object) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads the stored object through {@code store}, the wrapped dispatcher, and works out what the write would leave. */
    static PendingWrite of(RecordedRequest request, RequestInfo info, Dispatcher store) {
        JsonNode old = info.verb().equals("create") ? null : current(request, info, store);
        return new PendingWrite(old, stored(request, info, old));
    }

    private static JsonNode current(RecordedRequest request, RequestInfo info, Dispatcher store) {
        String path = info.path();
        if (!info.subresource().isEmpty()) {
            path = path.substring(0, path.length() - info.subresource().length() - 1);
        }
        MockResponse response = store.dispatch(new RecordedRequest(request.getHttpVersion(), HttpMethod.GET, path,
                request.getHeaders(), new Buffer()));
        if (response.code() != 200) {
            return null;
        }
        try {
            return JSON.readTree(response.getBody().getBytes());
        } catch (Exception e) {
            return null;
        }
    }

    /** The body, or the patch applied to the current object. */
    private static JsonNode stored(RecordedRequest request, RequestInfo info, JsonNode old) {
        JsonNode body;
        try {
            body = JSON.readTree(request.getBody() == null ? new byte[0] : request.getBody().getBytes());
        } catch (Exception notJson) {
            return null;
        }
        JsonNode object;
        if (!info.verb().equals("patch")) {
            object = body;
        } else {
            if (old == null) {
                return null;
            }
            String type = Optional.ofNullable(request.getHeader("Content-Type")).orElse("");
            if (type.startsWith("application/json-patch+json")) {
                object = JsonPatch.apply(body, old.deepCopy());
            } else if (type.startsWith("application/merge-patch+json") || type.startsWith("application/strategic-merge-patch+json")) {
                object = merge(old.deepCopy(), body);
            } else {
                return null;
            }
        }
        if (!(object instanceof ObjectNode stored)) {
            return null;
        }
        if (old != null && !info.subresource().isEmpty()) {
            // a write of a subresource changes only that part; metadata and the rest stay as stored
            ObjectNode merged = (ObjectNode) old.deepCopy();
            merged.set(info.subresource(), stored.get(info.subresource()));
            stored = merged;
        }
        if (stored.path("kind").asText("").isEmpty() && old != null) {
            stored.set("kind", old.get("kind"));
            stored.set("apiVersion", old.get("apiVersion"));
        }
        if (stored.path("metadata").path("namespace").isMissingNode() && !info.namespace().isEmpty() && stored.get("metadata") instanceof ObjectNode meta) {
            meta.put("namespace", info.namespace());
        }
        return stored;
    }

    /** RFC 7386 JSON merge patch (strategic merge patches are taken as merge patches, as the mock server takes them). */
    private static JsonNode merge(JsonNode target, JsonNode patch) {
        if (!patch.isObject()) {
            return patch;
        }
        ObjectNode out = target != null && target.isObject() ? (ObjectNode) target : JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isNull()) {
                out.remove(e.getKey());
            } else {
                out.set(e.getKey(), merge(out.get(e.getKey()), e.getValue()));
            }
        }
        return out;
    }
}
