package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.Pluralize;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * fabric8's mock API server made as strict as a real one where fedtune can tell: wraps its dispatcher and, before a
 * request reaches it, refuses what kube-apiserver would refuse, in kube-apiserver's order and words.
 * <ol>
 * <li>Authorization (403 Forbidden): a request that carries the operator's bearer token ({@link #OPERATOR_TOKEN}) is
 * the operator's service account, and must be allowed by the chart's ClusterRole ({@link RbacPolicy}); every other
 * request is an administrator's (the tests' own set-up, the fake kubelet, local mode's apply and pod runner).</li>
 * <li>Label selectors of list, watch and deletecollection (400 BadRequest): keys and values must be valid.</li>
 * <li>Decoding (400 BadRequest): resource quantities must parse.</li>
 * <li>Validation (422 Invalid), for everyone: {@link ObjectRules} on the object a create, update or patch would
 * store.</li>
 * <li>OwnerReferencesPermissionEnforcement admission (403 Forbidden), for the operator: setting
 * {@code blockOwnerDeletion: true} needs {@code update} on the owner's {@code finalizers} subresource.</li>
 * </ol>
 * Each refusal is recorded (tests fail on any), and so is each permission the operator used.
 */
public final class StrictDispatcher extends Dispatcher {
    /** The operator's bearer token in the strict world (the test profile's and local mode's client configuration). */
    public static final String OPERATOR_TOKEN = "fedtune-strict-operator-token";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Dispatcher inner;
    private final RbacPolicy operator;
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final Set<Permission> used = ConcurrentHashMap.newKeySet();

    public StrictDispatcher(Dispatcher inner, RbacPolicy operator) {
        this.inner = inner;
        this.operator = operator;
    }

    /** Every refusal so far, as "METHOD PATH -> CODE MESSAGE", oldest first. */
    public List<String> refusals() {
        return List.copyOf(refusals);
    }

    /** Every permission the operator's requests needed (including the admission checks made on its behalf). */
    public Set<Permission> used() {
        return new TreeSet<>(used);
    }

    public RbacPolicy policy() {
        return operator;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        MockResponse refusal;
        try {
            refusal = check(request);
        } catch (RuntimeException e) {
            refusal = null; // a request the checks cannot read is left to the mock server to answer
        }
        if (refusal != null) {
            refusals.add(request.getMethod() + " " + request.getPath() + " -> " + refusal.code() + " " + ApiStatus.message(refusal)
                    + (isOperator(request) ? " (operator)" : ""));
            return refusal;
        }
        return inner.dispatch(request);
    }

    @Override
    public void shutdown() {
        inner.shutdown();
    }

    private boolean isOperator(RecordedRequest request) {
        return ("Bearer " + OPERATOR_TOKEN).equals(request.getHeader("Authorization"));
    }

    private MockResponse check(RecordedRequest request) {
        RequestInfo info = RequestInfo.of(request.getMethod(), request.getPath());
        boolean isOperator = isOperator(request);
        if (isOperator) {
            if (!operator.allows(info)) {
                return ApiStatus.forbidden(info.apiGroup(), info.resource(), info.name(), operator.forbiddenReason(info));
            }
            if (info.resourceRequest()) {
                used.add(info.permission());
            }
        }
        if (!info.resourceRequest()) {
            return null;
        }
        String selector = info.query().get("labelSelector");
        if (selector != null && Set.of("list", "watch", "deletecollection").contains(info.verb())) {
            Optional<String> problem = LabelSelectors.problem(selector);
            if (problem.isPresent()) {
                return ApiStatus.badRequest(problem.get());
            }
        }
        if (!Set.of("create", "update", "patch").contains(info.verb())) {
            return null;
        }
        JsonNode old = info.verb().equals("create") ? null : current(request, info);
        JsonNode object = stored(request, info, old);
        if (object == null) {
            return null;
        }
        Optional<String> decode = ObjectRules.decodeError(object);
        if (decode.isPresent()) {
            return ApiStatus.badRequest(object.path("kind").asText() + " in version \"" + versionOf(object)
                    + "\" cannot be handled as a " + object.path("kind").asText() + ": " + decode.get());
        }
        List<FieldError> errors = ObjectRules.validate(object);
        if (!errors.isEmpty()) {
            return ApiStatus.invalid(groupOf(object), object.path("kind").asText(), object.path("metadata").path("name").asText(""), errors);
        }
        if (isOperator) {
            return ownerReferences(info, object, old);
        }
        return null;
    }

    /** OwnerReferencesPermissionEnforcement (plugin/pkg/admission/gc): blocking references need update on OWNER/finalizers. */
    private MockResponse ownerReferences(RequestInfo info, JsonNode object, JsonNode old) {
        for (JsonNode ref : object.path("metadata").path("ownerReferences")) {
            if (!ref.path("blockOwnerDeletion").asBoolean(false) || wasBlocking(old, ref)) {
                continue;
            }
            String apiVersion = ref.path("apiVersion").asText();
            String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
            String resource = Pluralize.toPlural(ref.path("kind").asText().toLowerCase(Locale.ROOT));
            String namespace = object.path("metadata").path("namespace").asText(info.namespace());
            if (!operator.allows("update", group, resource, "finalizers", ref.path("name").asText())) {
                return ApiStatus.forbidden(info.apiGroup(), info.resource(), object.path("metadata").path("name").asText(""),
                        "cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: "
                                + operator.forbiddenReason("update", group, resource + "/finalizers", namespace, true, "") + ", <nil>");
            }
            used.add(new Permission("update", group, resource + "/finalizers"));
        }
        return null;
    }

    private static boolean wasBlocking(JsonNode old, JsonNode ref) {
        if (old == null) {
            return false;
        }
        for (JsonNode before : old.path("metadata").path("ownerReferences")) {
            if (before.path("uid").asText().equals(ref.path("uid").asText()) && before.path("blockOwnerDeletion").asBoolean(false)) {
                return true;
            }
        }
        return false;
    }

    /** The object as it is stored now, read through the wrapped dispatcher; null when there is none. */
    private JsonNode current(RecordedRequest request, RequestInfo info) {
        String path = info.path();
        if (!info.subresource().isEmpty()) {
            path = path.substring(0, path.length() - info.subresource().length() - 1);
        }
        MockResponse response = inner.dispatch(new RecordedRequest(request.getHttpVersion(), HttpMethod.GET, path,
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

    /** What a create, update or patch would store: the body, or the patch applied to the current object. */
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
    static JsonNode merge(JsonNode target, JsonNode patch) {
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

    private static String groupOf(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText("");
        return apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
    }

    private static String versionOf(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText("");
        return apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion;
    }

    /** Label selectors as labels.Parse reads them: each requirement's key a qualified name, each value a label value. */
    static final class LabelSelectors {
        private LabelSelectors() {
        }

        static Optional<String> problem(String selector) {
            for (String term : terms(selector)) {
                String t = term.trim();
                if (t.isEmpty()) {
                    continue;
                }
                String key;
                List<String> values = new ArrayList<>();
                java.util.regex.Matcher set = java.util.regex.Pattern.compile("^(\\S+)\\s+(in|notin)\\s*\\((.*)\\)$").matcher(t);
                if (set.matches()) {
                    key = set.group(1);
                    for (String v : set.group(3).split(",")) {
                        values.add(v.trim());
                    }
                } else if (t.contains("!=") || t.contains("=")) {
                    String op = t.contains("!=") ? "!=" : t.contains("==") ? "==" : "=";
                    int at = t.indexOf(op);
                    key = t.substring(0, at).trim();
                    values.add(t.substring(at + op.length()).trim());
                } else {
                    key = t.startsWith("!") ? t.substring(1).trim() : t;
                }
                List<String> keyProblems = ObjectRules.qualifiedNameProblems(key);
                if (!keyProblems.isEmpty()) {
                    return Optional.of("unable to parse requirement: key: Invalid value: \"" + key + "\": " + keyProblems.get(0));
                }
                for (int i = 0; i < values.size(); i++) {
                    List<String> valueProblems = ObjectRules.labelValueProblems(values.get(i));
                    if (!valueProblems.isEmpty()) {
                        return Optional.of("unable to parse requirement: values[" + i + "][" + key + "]: Invalid value: \""
                                + values.get(i) + "\": " + valueProblems.get(0));
                    }
                }
            }
            return Optional.empty();
        }

        private static List<String> terms(String selector) {
            List<String> out = new ArrayList<>();
            int depth = 0;
            StringBuilder current = new StringBuilder();
            for (char c : selector.toCharArray()) {
                if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
                if (c == ',' && depth == 0) {
                    out.add(current.toString());
                    current.setLength(0);
                } else {
                    current.append(c);
                }
            }
            out.add(current.toString());
            return out;
        }
    }
}
