package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.List;
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
 * <li>Label selectors of list, watch and deletecollection (400 BadRequest): keys and values must be valid
 * ({@link LabelSelectors}).</li>
 * <li>Decoding (400 BadRequest): resource quantities must parse.</li>
 * <li>Validation (422 Invalid), for everyone: {@link ObjectRules} on the object a create, update or patch would
 * store ({@link PendingWrite}).</li>
 * <li>OwnerReferencesPermissionEnforcement admission (403 Forbidden), for the operator: setting
 * {@code blockOwnerDeletion: true} needs {@code update} on the owner's {@code finalizers} subresource
 * ({@link OwnerReferencesAdmission}).</li>
 * </ol>
 * Each refusal is recorded (tests fail on any), and so is each permission the operator used.
 */
public final class StrictDispatcher extends Dispatcher {
    /** The operator's bearer token in the strict world (the test profile's and local mode's client configuration). */
    public static final String OPERATOR_TOKEN = "fedtune-strict-operator-token";

    private final Dispatcher inner;
    private final RbacPolicy operator;
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final Set<Permission> used = ConcurrentHashMap.newKeySet();
    private final OwnerReferencesAdmission ownerReferences;

    public StrictDispatcher(Dispatcher inner, RbacPolicy operator) {
        this.inner = inner;
        this.operator = operator;
        this.ownerReferences = new OwnerReferencesAdmission(operator, used);
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
        PendingWrite write = PendingWrite.of(request, info, inner);
        JsonNode object = write.object();
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
            return ownerReferences.check(info, write);
        }
        return null;
    }

    private static String groupOf(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText("");
        return apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
    }

    private static String versionOf(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText("");
        return apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion;
    }
}
