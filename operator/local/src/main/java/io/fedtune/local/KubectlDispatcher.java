package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The CRUD mock server plus what a real kubectl needs to talk to it: API discovery, server-side printing (Tables
 * built from the CRDs' printer columns, and the usual pod columns) and field selectors on events, so that
 * {@code kubectl get} and {@code kubectl describe} show what they show on a cluster.
 */
final class KubectlDispatcher extends KubernetesCrudDispatcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<CoreResource> CORE = List.of(
            new CoreResource("pods", "Pod", true, List.of("po")),
            new CoreResource("secrets", "Secret", true, List.of()),
            new CoreResource("events", "Event", true, List.of("ev")),
            new CoreResource("configmaps", "ConfigMap", true, List.of("cm")),
            new CoreResource("namespaces", "Namespace", false, List.of("ns")));
    private static final List<String> VERBS = List.of("create", "delete", "get", "list", "patch", "update", "watch");

    private final List<CustomResourceDefinition> crds = new CopyOnWriteArrayList<>();

    KubectlDispatcher() {
        super(List.of());
    }

    void register(CustomResourceDefinition crd) {
        crds.add(crd);
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        String path = request.getPath();
        String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        Map<String, String> query = query(path);
        if ("GET".equals(request.getMethod())) {
            JsonNode discovery = discovery(bare);
            if (discovery != null) {
                return json(discovery);
            }
        }
        boolean eventSelection = bare.endsWith("/events") && query.containsKey("fieldSelector");
        // The CRUD store knows no involvedObject.* field selectors; fetch all events and select them here.
        MockResponse response = super.dispatch(eventSelection ? withoutQuery(request, bare) : request);
        if (!"GET".equals(request.getMethod()) || response.code() != 200 || "true".equals(query.get("watch"))) {
            return response;
        }
        try {
            JsonNode body = JSON.readTree(response.getBody().readUtf8());
            if (eventSelection) {
                body = selectEvents(body, query.get("fieldSelector"));
            }
            if ("List".equals(body.path("kind").asText()) && !kindOfCollection(bare).isEmpty()) {
                // Typed clients (kubectl describe reads events as an EventList) refuse a plain List.
                body = ((ObjectNode) body.deepCopy()).put("kind", kindOfCollection(bare) + "List");
            }
            String accept = request.getHeader("Accept");
            if (accept != null && accept.contains("as=Table")) {
                JsonNode table = table(body, bare);
                if (table != null) {
                    return json(table);
                }
            }
            return json(body);
        } catch (Exception notJson) {
            return response;
        }
    }

    private JsonNode discovery(String path) {
        return switch (path) {
            case "/api" -> JSON.createObjectNode().put("kind", "APIVersions").set("versions", JSON.createArrayNode().add("v1"));
            case "/apis" -> groups();
            case "/api/v1" -> resourceList("v1", CORE.stream().map(CoreResource::json).toList());
            case "/apis/apiextensions.k8s.io/v1" -> resourceList("apiextensions.k8s.io/v1",
                    List.of(resource("customresourcedefinitions", "CustomResourceDefinition", false, List.of("crd"), List.of())));
            default -> crdResources(path);
        };
    }

    private JsonNode groups() {
        Map<String, String> versions = new LinkedHashMap<>();
        versions.put("apiextensions.k8s.io", "v1");
        crds.forEach(c -> versions.put(c.getSpec().getGroup(), c.getSpec().getVersions().get(0).getName()));
        ArrayNode groups = JSON.createArrayNode();
        versions.forEach((group, version) -> {
            ObjectNode gv = JSON.createObjectNode().put("groupVersion", group + "/" + version).put("version", version);
            groups.addObject().put("name", group).<ObjectNode>set("versions", JSON.createArrayNode().add(gv)).set("preferredVersion", gv);
        });
        return JSON.createObjectNode().put("kind", "APIGroupList").put("apiVersion", "v1").set("groups", groups);
    }

    private JsonNode crdResources(String path) {
        List<JsonNode> resources = new ArrayList<>();
        String groupVersion = null;
        for (CustomResourceDefinition crd : crds) {
            String gv = crd.getSpec().getGroup() + "/" + crd.getSpec().getVersions().get(0).getName();
            if (path.equals("/apis/" + gv)) {
                groupVersion = gv;
                var names = crd.getSpec().getNames();
                resources.add(resource(names.getPlural(), names.getKind(), "Namespaced".equals(crd.getSpec().getScope()),
                        names.getShortNames(), names.getCategories()));
                resources.add(resource(names.getPlural() + "/status", names.getKind(), true, List.of(), List.of()));
            }
        }
        return groupVersion == null ? null : resourceList(groupVersion, resources);
    }

    private static JsonNode resourceList(String groupVersion, List<JsonNode> resources) {
        ObjectNode list = JSON.createObjectNode().put("kind", "APIResourceList").put("apiVersion", "v1").put("groupVersion", groupVersion);
        list.putArray("resources").addAll(resources);
        return list;
    }

    private static JsonNode resource(String name, String kind, boolean namespaced, List<String> shortNames, List<String> categories) {
        ObjectNode r = JSON.createObjectNode().put("name", name).put("singularName", name.contains("/") ? "" : kind.toLowerCase())
                .put("namespaced", namespaced).put("kind", kind);
        r.putArray("verbs").addAll(VERBS.stream().map(JSON.getNodeFactory()::textNode).toList());
        r.putArray("shortNames").addAll(shortNames.stream().map(JSON.getNodeFactory()::textNode).toList());
        r.putArray("categories").addAll(categories.stream().map(JSON.getNodeFactory()::textNode).toList());
        return r;
    }

    /** A meta.k8s.io/v1 Table of a list or of one object, or null for kinds it has no columns for. */
    private JsonNode table(JsonNode body, String path) {
        boolean isList = body.has("items");
        List<JsonNode> objects = new ArrayList<>();
        if (isList) {
            body.get("items").forEach(objects::add);
        } else {
            objects.add(body);
        }
        String kind = isList ? kindOfCollection(path) : body.path("kind").asText();
        List<Column> columns = columns(kind);
        if (columns == null) {
            return null;
        }
        ObjectNode table = JSON.createObjectNode().put("kind", "Table").put("apiVersion", "meta.k8s.io/v1");
        table.putObject("metadata").put("resourceVersion", body.path("metadata").path("resourceVersion").asText(""));
        ArrayNode defs = table.putArray("columnDefinitions");
        defs.addObject().put("name", "Name").put("type", "string").put("format", "name").put("priority", 0).put("description", "");
        columns.forEach(c -> defs.addObject().put("name", c.name).put("type", c.type).put("format", "").put("priority", c.priority)
                .put("description", ""));
        ArrayNode rows = table.putArray("rows");
        for (JsonNode o : objects) {
            ObjectNode row = rows.addObject();
            ArrayNode cells = row.putArray("cells");
            cells.add(o.path("metadata").path("name").asText());
            columns.forEach(c -> cells.add(c.cell(o)));
            ObjectNode partial = row.putObject("object").put("kind", "PartialObjectMetadata").put("apiVersion", "meta.k8s.io/v1");
            partial.set("metadata", o.path("metadata"));
        }
        return table;
    }

    private List<Column> columns(String kind) {
        if ("Pod".equals(kind)) {
            return List.of(
                    new Column("Ready", "string", 0, o -> JSON.getNodeFactory().textNode(
                            (o.at("/status/containerStatuses/0/ready").asBoolean() ? 1 : 0) + "/" + o.at("/spec/containers").size())),
                    new Column("Status", "string", 0, o -> JSON.getNodeFactory().textNode(o.at("/status/phase").asText("Pending"))),
                    new Column("Restarts", "integer", 0, o -> JSON.getNodeFactory().numberNode(o.at("/status/containerStatuses/0/restartCount").asInt())),
                    new Column("Age", "string", 0, o -> age(o.at("/metadata/creationTimestamp").asText(null))));
        }
        if ("Event".equals(kind)) {
            return List.of(
                    new Column("Last Seen", "string", 0, o -> age(o.path("lastTimestamp").asText(o.path("eventTime").asText(null)))),
                    new Column("Type", "string", 0, o -> o.path("type")),
                    new Column("Reason", "string", 0, o -> o.path("reason")),
                    new Column("Object", "string", 0, o -> JSON.getNodeFactory().textNode(
                            o.at("/involvedObject/kind").asText().toLowerCase() + "/" + o.at("/involvedObject/name").asText())),
                    new Column("Message", "string", 0, o -> o.path("message")));
        }
        for (CustomResourceDefinition crd : crds) {
            if (crd.getSpec().getNames().getKind().equals(kind)) {
                return crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns().stream()
                        .map(c -> new Column(c.getName(), "date".equals(c.getType()) ? "string" : c.getType(),
                                c.getPriority() == null ? 0 : c.getPriority(), o -> {
                                    JsonNode v = PrinterPath.read(o, c.getJsonPath());
                                    return "date".equals(c.getType()) ? age(v == null ? null : v.asText()) : v;
                                }))
                        .toList();
            }
        }
        return null;
    }

    /** The kind a collection path lists, from its last segment (the plural). */
    private String kindOfCollection(String path) {
        String plural = path.substring(path.lastIndexOf('/') + 1);
        if ("pods".equals(plural)) {
            return "Pod";
        }
        if ("events".equals(plural)) {
            return "Event";
        }
        return crds.stream().filter(c -> c.getSpec().getNames().getPlural().equals(plural))
                .map(c -> c.getSpec().getNames().getKind()).findFirst().orElse("");
    }

    /** How kubectl shows an age: 45s, 5m3s, 52m, 3h4m, 2d. */
    static JsonNode age(String timestamp) {
        if (timestamp == null || timestamp.isEmpty()) {
            return JSON.getNodeFactory().textNode("<unknown>");
        }
        Duration d = Duration.between(Instant.parse(timestamp), Instant.now());
        long s = Math.max(0, d.toSeconds());
        String text = s < 120 ? s + "s" : s < 600 ? (s / 60) + "m" + (s % 60) + "s" : s < 3 * 3600 ? (s / 60) + "m"
                : s < 48 * 3600 ? (s / 3600) + "h" + ((s % 3600) / 60) + "m" : (s / 86400) + "d";
        return JSON.getNodeFactory().textNode(text);
    }

    /** Events whose involvedObject matches every involvedObject.* term of the field selector. */
    private static JsonNode selectEvents(JsonNode list, String selector) {
        ObjectNode filtered = ((ObjectNode) list).deepCopy();
        ArrayNode items = filtered.putArray("items");
        Map<String, String> terms = new LinkedHashMap<>();
        for (String term : selector.split(",")) {
            String[] kv = term.split("=", 2);
            if (kv.length == 2 && kv[0].startsWith("involvedObject.")) {
                terms.put(kv[0].substring("involvedObject.".length()), kv[1]);
            }
        }
        list.path("items").forEach(e -> {
            boolean match = terms.entrySet().stream().allMatch(t -> t.getValue().equals(e.path("involvedObject").path(t.getKey()).asText()));
            if (match) {
                items.add(e);
            }
        });
        return filtered;
    }

    private static RecordedRequest withoutQuery(RecordedRequest request, String path) {
        return new RecordedRequest(request.getHttpVersion(), request.method(), path, request.getHeaders(), request.getBody());
    }

    private static Map<String, String> query(String path) {
        Map<String, String> q = new LinkedHashMap<>();
        int i = path.indexOf('?');
        if (i >= 0) {
            for (String pair : path.substring(i + 1).split("&")) {
                String[] kv = pair.split("=", 2);
                q.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
            }
        }
        return q;
    }

    private static MockResponse json(JsonNode body) {
        return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json").setBody(body.toString());
    }

    private record CoreResource(String name, String kind, boolean namespaced, List<String> shortNames) {
        JsonNode json() {
            return resource(name, kind, namespaced, shortNames, List.of());
        }
    }

    private record Column(String name, String type, int priority, java.util.function.Function<JsonNode, JsonNode> value) {
        JsonNode cell(JsonNode o) {
            JsonNode v = value.apply(o);
            return v == null || v.isMissingNode() ? JSON.getNodeFactory().nullNode() : v;
        }
    }
}
