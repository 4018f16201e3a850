package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.Pluralize;
import io.fabric8.mockwebserver.http.MockResponse;
import java.util.Locale;
import java.util.Set;

/**
 * OwnerReferencesPermissionEnforcement (plugin/pkg/admission/gc), for the operator: a reference newly set with
 * {@code blockOwnerDeletion: true} needs {@code update} on the owner's {@code finalizers} subresource.
 */
final class OwnerReferencesAdmission {
    private final RbacPolicy operator;
    private final Set<Permission> used;

    /** {@code used}: where each finalizers permission the operator needed is recorded. */
    OwnerReferencesAdmission(RbacPolicy operator, Set<Permission> used) {
        this.operator = operator;
        this.used = used;
    }

    /** The 403 Forbidden kube-apiserver would answer; null when the write is admitted. */
    MockResponse check(RequestInfo info, PendingWrite write) {
        JsonNode object = write.object();
        for (JsonNode ref : object.path("metadata").path("ownerReferences")) {
            if (!ref.path("blockOwnerDeletion").asBoolean(false) || wasBlocking(write.old(), ref)) {
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
}
