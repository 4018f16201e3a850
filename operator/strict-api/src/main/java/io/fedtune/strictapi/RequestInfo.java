package io.fedtune.strictapi;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an HTTP request asks for, in RBAC's terms: kube-apiserver's RequestInfoFactory (k8s.io/apiserver
 * pkg/endpoints/request/requestinfo.go) for the request forms a client sends. GET is get with a name and list or
 * watch ({@code ?watch=true}, or the deprecated {@code /watch/} prefix) without one; POST create; PUT update; PATCH
 * patch; DELETE delete with a name and deletecollection without one. Anything outside /api and /apis is a
 * non-resource request (discovery, /version).
 *
 * @param apiGroup    "" for the core group
 * @param subresource e.g. status, or ""
 * @param namespace   "" for cluster-scoped requests
 * @param name        "" for collections
 * @param query       decoded query parameters
 */
public record RequestInfo(boolean resourceRequest, String path, String verb, String apiGroup, String apiVersion,
        String resource, String subresource, String namespace, String name, Map<String, String> query) {
    private static final Set<String> SPECIAL_VERBS = Set.of("proxy", "watch");
    private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

    public static RequestInfo of(String method, String rawPath) {
        int q = rawPath.indexOf('?');
        String path = q < 0 ? rawPath : rawPath.substring(0, q);
        Map<String, String> query = query(q < 0 ? "" : rawPath.substring(q + 1));
        String verb = switch (method.toUpperCase(java.util.Locale.ROOT)) {
            case "POST" -> "create";
            case "GET", "HEAD" -> "get";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> "delete";
            default -> "";
        };
        List<String> parts = Arrays.stream(path.split("/")).filter(p -> !p.isEmpty()).toList();
        if (parts.isEmpty() || !(parts.get(0).equals("api") || parts.get(0).equals("apis"))) {
            return nonResource(path, verb.equals("create") ? "post" : verb, query);
        }
        String group = "";
        int at = 1;
        if (parts.get(0).equals("apis")) {
            if (parts.size() < 4) {
                return nonResource(path, verb, query);
            }
            group = parts.get(1);
            at = 2;
        } else if (parts.size() < 3) {
            return nonResource(path, verb, query);
        }
        String version = parts.get(at);
        List<String> rest = parts.subList(at + 1, parts.size());
        if (SPECIAL_VERBS.contains(rest.get(0)) && rest.size() >= 2) {
            verb = rest.get(0);
            rest = rest.subList(1, rest.size());
        }
        String namespace = "";
        if (rest.get(0).equals("namespaces")) {
            if (rest.size() > 1) {
                namespace = rest.get(1);
                if (rest.size() > 2 && !NAMESPACE_SUBRESOURCES.contains(rest.get(2))) {
                    rest = rest.subList(2, rest.size());
                }
            }
        }
        String resource = rest.get(0);
        String name = rest.size() >= 2 ? rest.get(1) : "";
        String subresource = rest.size() >= 3 ? rest.get(2) : "";
        if (name.isEmpty() && verb.equals("get")) {
            String watch = query.get("watch");
            verb = "true".equals(watch) || "1".equals(watch) ? "watch" : "list";
            String fieldSelector = query.getOrDefault("fieldSelector", "");
            if (fieldSelector.startsWith("metadata.name=") && !fieldSelector.contains(",")) {
                name = fieldSelector.substring("metadata.name=".length()).replaceFirst("^=", "");
            }
        }
        if (name.isEmpty() && verb.equals("delete")) {
            verb = "deletecollection";
        }
        return new RequestInfo(true, path, verb, group, version, resource, subresource, namespace, name, query);
    }

    private static RequestInfo nonResource(String path, String verb, Map<String, String> query) {
        return new RequestInfo(false, path, verb, "", "", "", "", "", "", query);
    }

    private static Map<String, String> query(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            out.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** resource or resource/subresource, as RBAC rules name it. */
    public String combinedResource() {
        return subresource.isEmpty() ? resource : resource + "/" + subresource;
    }

    /** The permission this request needs, as one line: verb group/resource[/subresource] ("" group shown as core). */
    public Permission permission() {
        return new Permission(verb, apiGroup, combinedResource());
    }
}
