package io.fedtune.strictapi;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one user may do: the rules of a ClusterRole bound to it cluster-wide, plus the discovery paths that every
 * authenticated user may read on a real cluster (the system:discovery and system:public-info-viewer ClusterRoles).
 * Rules match as RBAC's rule resolver matches them (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac/rbac.go
 * RuleAllows): verb, API group, resource or resource/subresource (with "*" and "*&#47;subresource"), resource names.
 */
public final class RbacPolicy {
    private static final List<String> DISCOVERY = List.of("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
            "/readyz", "/openapi", "/openapi/*", "/version", "/version/");

    private final String user;
    private final List<PolicyRule> rules;

    public RbacPolicy(String user, ClusterRole role) {
        this.user = user;
        this.rules = List.copyOf(role.getRules());
    }

    /** The user this policy is for, e.g. system:serviceaccount:fedtune:fedtune-operator. */
    public String user() {
        return user;
    }

    public List<PolicyRule> rules() {
        return rules;
    }

    public boolean allows(RequestInfo request) {
        if (!request.resourceRequest()) {
            return "get".equals(request.verb()) && DISCOVERY.stream().anyMatch(p -> pathMatches(p, request.path()));
        }
        return rules.stream().anyMatch(rule -> allows(rule, request.verb(), request.apiGroup(), request.resource(),
                request.subresource(), request.name()));
    }

    /** As the authorizer decides a check the API server makes itself (owner-reference admission). */
    public boolean allows(String verb, String group, String resource, String subresource, String name) {
        return rules.stream().anyMatch(rule -> allows(rule, verb, group, resource, subresource, name));
    }

    /** Every (verb, group, resource) the rules grant; empty when a rule uses a wildcard, which cannot be listed. */
    public Optional<Set<Permission>> granted() {
        Set<Permission> out = new TreeSet<>();
        for (PolicyRule rule : rules) {
            if (rule.getNonResourceURLs() != null && !rule.getNonResourceURLs().isEmpty()) {
                continue;
            }
            for (String verb : rule.getVerbs()) {
                for (String group : rule.getApiGroups()) {
                    for (String resource : rule.getResources()) {
                        if (verb.contains("*") || group.contains("*") || resource.contains("*")) {
                            return Optional.empty();
                        }
                        out.add(new Permission(verb, group, resource));
                    }
                }
            }
        }
        return Optional.of(out);
    }

    private static boolean allows(PolicyRule rule, String verb, String group, String resource, String subresource, String name) {
        if (rule.getResources() == null || rule.getResources().isEmpty()) {
            return false;
        }
        String combined = subresource.isEmpty() ? resource : resource + "/" + subresource;
        boolean verbOk = rule.getVerbs().contains("*") || rule.getVerbs().contains(verb);
        boolean groupOk = rule.getApiGroups().contains("*") || rule.getApiGroups().contains(group);
        boolean resourceOk = rule.getResources().stream().anyMatch(r -> r.equals("*") || r.equals(combined)
                || (!subresource.isEmpty() && r.equals("*/" + subresource)));
        List<String> names = rule.getResourceNames();
        boolean nameOk = names == null || names.isEmpty() || names.contains(name);
        return verbOk && groupOk && resourceOk && nameOk;
    }

    private static boolean pathMatches(String pattern, String path) {
        if (pattern.endsWith("*")) {
            return path.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return pattern.equals(path);
    }

    /** The authorizer's reason, as kube-apiserver words it (k8s.io/apiserver endpoints/handlers/responsewriters). */
    public String forbiddenReason(RequestInfo r) {
        return forbiddenReason(r.verb(), r.apiGroup(), r.combinedResource(), r.namespace(), r.resourceRequest(), r.path());
    }

    String forbiddenReason(String verb, String group, String combinedResource, String namespace, boolean resourceRequest, String path) {
        if (!resourceRequest) {
            return "User \"" + user + "\" cannot " + verb + " path \"" + path + "\"";
        }
        String where = namespace.isEmpty() ? " at the cluster scope" : " in the namespace \"" + namespace + "\"";
        return "User \"" + user + "\" cannot " + verb + " resource \"" + combinedResource + "\" in API group \"" + group + "\"" + where;
    }
}
