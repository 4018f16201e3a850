package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** One container's rules within a pod: name, image, policies, env, volume mounts and resources. */
final class ContainerRules {
    private static final Pattern ENV_VAR_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");
    private static final String ENV_VAR_MSG = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
    private static final Set<String> STANDARD_RESOURCES = Set.of("cpu", "memory", "ephemeral-storage", "storage");

    private ContainerRules() {
    }

    /** {@code volumes}: the pod's volume names; {@code names}: the container names seen so far in the pod, this one added. */
    static void validate(String at, JsonNode c, Set<String> volumes, Set<String> names, List<FieldError> errors) {
        NameRules.uniqueDnsLabel(at + ".name", c.path("name").asText(""), names, errors);
        if (c.path("image").asText("").isBlank()) {
            errors.add(FieldError.required(at + ".image"));
        }
        String policy = c.path("terminationMessagePolicy").asText("File");
        if (!List.of("File", "FallbackToLogsOnError").contains(policy)) {
            errors.add(FieldError.notSupported(at + ".terminationMessagePolicy", policy, "File", "FallbackToLogsOnError"));
        }
        String pull = c.path("imagePullPolicy").asText("IfNotPresent");
        if (!List.of("Always", "IfNotPresent", "Never").contains(pull)) {
            errors.add(FieldError.notSupported(at + ".imagePullPolicy", pull, "Always", "IfNotPresent", "Never"));
        }
        int i = 0;
        for (JsonNode env : c.path("env")) {
            env(at + ".env[" + i++ + "]", env, errors);
        }
        i = 0;
        for (JsonNode mount : c.path("volumeMounts")) {
            String m = at + ".volumeMounts[" + i++ + "]";
            String volume = mount.path("name").asText("");
            if (!volumes.contains(volume)) {
                errors.add(FieldError.notFound(m + ".name", volume));
            }
            if (mount.path("mountPath").asText("").isEmpty()) {
                errors.add(FieldError.required(m + ".mountPath"));
            }
        }
        resources(at + ".resources", c.path("resources"), errors);
    }

    private static void env(String at, JsonNode env, List<FieldError> errors) {
        String var = env.path("name").asText("");
        if (var.isEmpty()) {
            errors.add(FieldError.required(at + ".name"));
        } else if (!ENV_VAR_NAME.matcher(var).matches()) {
            errors.add(FieldError.invalid(at + ".name", var, ENV_VAR_MSG));
        }
        JsonNode secret = env.path("valueFrom").path("secretKeyRef");
        if (!secret.isMissingNode()) {
            if (secret.path("name").asText("").isEmpty()) {
                errors.add(FieldError.required(at + ".valueFrom.secretKeyRef.name"));
            }
            String key = secret.path("key").asText("");
            if (key.isEmpty()) {
                errors.add(FieldError.required(at + ".valueFrom.secretKeyRef.key"));
            } else if (!NameRules.isConfigKey(key)) {
                errors.add(FieldError.invalid(at + ".valueFrom.secretKeyRef.key", key, NameRules.CONFIG_KEY_MSG));
            }
        }
    }

    private static void resources(String at, JsonNode resources, List<FieldError> errors) {
        for (String section : List.of("limits", "requests")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = resources.path(section).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> r = it.next();
                String field = at + "." + section + "[" + r.getKey() + "]";
                if (!r.getKey().contains("/") && !STANDARD_RESOURCES.contains(r.getKey()) && !r.getKey().startsWith("hugepages-")) {
                    errors.add(FieldError.invalid(field, r.getKey(), "must be a standard resource type or fully qualified"));
                }
                NameRules.qualifiedName(field, r.getKey(), errors);
                ResourceQuantity.parse(r.getValue().asText()).filter(q -> q.signum() < 0)
                        .ifPresent(q -> errors.add(FieldError.invalid(field, r.getValue().asText(), "must be greater than or equal to 0")));
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = resources.path("requests").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> request = it.next();
            JsonNode limit = resources.path("limits").path(request.getKey());
            if (!limit.isMissingNode()) {
                Optional<BigDecimal> req = ResourceQuantity.parse(request.getValue().asText());
                Optional<BigDecimal> lim = ResourceQuantity.parse(limit.asText());
                if (req.isPresent() && lim.isPresent() && req.get().compareTo(lim.get()) > 0) {
                    errors.add(FieldError.invalid(at + ".requests", request.getValue().asText(),
                            "must be less than or equal to " + request.getKey() + " limit of " + limit.asText()));
                }
            }
        }
    }
}
