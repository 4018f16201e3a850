package io.fedtune.operator.status;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a failed reconcile tells people in the run's Ready condition: for a request the API server refused (RBAC, a
 * quota, an admission webhook) its code and the server's own message, else the exception's type and message. Query
 * strings of URLs (presigned URLs carry signatures there) and values after secret-looking keys are cut out, so the
 * message is safe to store in status.
 */
public final class ReconcileError {
    static final int LIMIT = 1024;
    private static final Pattern QUERY = Pattern.compile("(https?://[^\\s?\"']+)\\?[^\\s\"']*");
    private static final Pattern SECRET_VALUE = Pattern.compile(
            "(?i)((?:secret|password|passwd|token|credential|signature|access[_-]?key)[\\w-]*\"?\\s*[=:]\\s*\"?)[^\\s,\"';&)]+");

    private ReconcileError() {
    }

    public static String message(Throwable error) {
        return redact(describe(error));
    }

    /** A resourceVersion conflict (JOSDK wraps what a reconcile throws): a stale view, not a failure to show. */
    public static boolean isConflict(Throwable error) {
        return apiError(error).map(k -> k.getCode() == HttpURLConnection.HTTP_CONFLICT).orElse(false);
    }

    private static Optional<KubernetesClientException> apiError(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof KubernetesClientException k && k.getCode() > 0) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    private static String describe(Throwable error) {
        Optional<KubernetesClientException> api = apiError(error);
        if (api.isPresent()) {
            KubernetesClientException k = api.get();
            String server = k.getStatus() != null && k.getStatus().getMessage() != null ? k.getStatus().getMessage() : null;
            String reason = k.getStatus() != null && k.getStatus().getReason() != null ? " " + k.getStatus().getReason() : "";
            return "the API server refused a request (" + k.getCode() + reason + "): " + (server != null ? server : k.getMessage());
        }
        // wrappers (JOSDK's OperatorException) repeat their cause: say the cause
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause
                && (cause.getMessage() == null || cause.getMessage().equals(cause.getCause().toString()))) {
            cause = cause.getCause();
        }
        return cause.getClass().getSimpleName() + (cause.getMessage() != null ? ": " + cause.getMessage() : "");
    }

    static String redact(String text) {
        String safe = SECRET_VALUE.matcher(QUERY.matcher(text).replaceAll("$1?(redacted)")).replaceAll("$1(redacted)");
        return safe.length() > LIMIT ? safe.substring(0, LIMIT - 3) + "..." : safe;
    }
}
