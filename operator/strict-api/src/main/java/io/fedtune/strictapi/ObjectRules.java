package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API server's validation of the objects fedtune writes, worded as k8s.io/apimachinery and
 * pkg/apis/core/validation word it (Kubernetes 1.29+): object metadata of every kind (name as a DNS-1123 subdomain,
 * namespace, label keys and values, annotation keys and their 256 KiB total, owner references), and for pods,
 * ConfigMaps and Events what their own validation adds. Not the whole of it: the rules fedtune's objects can break.
 */
public final class ObjectRules {
    static final int LABEL_VALUE_MAX = 63;
    static final long ANNOTATIONS_MAX = 256 * 1024;
    static final long CONFIG_MAP_MAX = 1024 * 1024;
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern QUALIFIED_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
    private static final Pattern CONFIG_KEY = Pattern.compile("[-._a-zA-Z0-9]+");
    private static final Pattern ENV_VAR_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");
    private static final Pattern QUANTITY = Pattern.compile("^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");
    private static final Set<String> STANDARD_RESOURCES = Set.of("cpu", "memory", "ephemeral-storage", "storage");

    static final String DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    static final String DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    static final String LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    private static final String QUALIFIED_NAME_PART_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    private static final String CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
    private static final String ENV_VAR_MSG = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
    static final String QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    private ObjectRules() {
    }

    /**
     * What the API server's decoding refuses before validation (400 BadRequest): a resource quantity that does not
     * parse, anywhere in a pod's containers.
     */
    public static Optional<String> decodeError(JsonNode object) {
        if (!"Pod".equals(object.path("kind").asText())) {
            return Optional.empty();
        }
        for (JsonNode container : containers(object.path("spec"))) {
            for (String section : List.of("limits", "requests")) {
                for (Iterator<Map.Entry<String, JsonNode>> it = container.path("resources").path(section).fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> q = it.next();
                    if (parseQuantity(q.getValue().asText()).isEmpty()) {
                        return Optional.of(QUANTITY_MSG);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** Every field of the object (after defaulting) that the API server would refuse; empty when it would store it. */
    public static List<FieldError> validate(JsonNode object) {
        List<FieldError> errors = new ArrayList<>();
        String kind = object.path("kind").asText();
        metadata(object.path("metadata"), kind, errors);
        switch (kind) {
            case "Pod" -> pod(object.path("spec"), errors);
            case "ConfigMap" -> configMap(object, errors);
            case "Event" -> event(object, errors);
            default -> {
            }
        }
        return errors;
    }

    private static void metadata(JsonNode meta, String kind, List<FieldError> errors) {
        String name = meta.path("name").asText("");
        if (name.isEmpty()) {
            if (meta.path("generateName").asText("").isEmpty()) {
                errors.add(new FieldError("metadata.name", "FieldValueRequired", null, "name or generateName is required"));
            }
        } else if ("Namespace".equals(kind)) {
            dnsLabel("metadata.name", name, errors);
        } else {
            dnsSubdomain("metadata.name", name, errors);
        }
        String namespace = meta.path("namespace").asText("");
        if (!namespace.isEmpty()) {
            dnsLabel("metadata.namespace", namespace, errors);
        }
        labels("metadata.labels", meta.path("labels"), errors);
        long size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.path("annotations").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> a = it.next();
            qualifiedName("metadata.annotations", a.getKey().toLowerCase(java.util.Locale.ROOT), errors);
            size += bytes(a.getKey()) + bytes(a.getValue().asText());
        }
        if (size > ANNOTATIONS_MAX) {
            errors.add(FieldError.tooLong("metadata.annotations", ANNOTATIONS_MAX));
        }
        int controllers = 0;
        int i = 0;
        for (JsonNode ref : meta.path("ownerReferences")) {
            String at = "metadata.ownerReferences[" + i++ + "]";
            for (String field : List.of("apiVersion", "kind", "name", "uid")) {
                if (ref.path(field).asText("").isEmpty()) {
                    errors.add(FieldError.required(at + "." + field));
                }
            }
            if (ref.path("controller").asBoolean(false)) {
                controllers++;
            }
        }
        if (controllers > 1) {
            errors.add(FieldError.invalid("metadata.ownerReferences", null, "Only one reference can have Controller set to true"));
        }
        i = 0;
        for (JsonNode finalizer : meta.path("finalizers")) {
            qualifiedName("metadata.finalizers[" + i++ + "]", finalizer.asText(), errors);
        }
    }

    /** Keys as qualified names, values as label values: metadata.labels, and a pod's nodeSelector. */
    static void labels(String field, JsonNode labels, List<FieldError> errors) {
        for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> label = it.next();
            qualifiedName(field, label.getKey(), errors);
            labelValue(field, label.getValue().asText(), errors);
        }
    }

    /** IsValidLabelValue; public for label selectors. */
    public static List<String> labelValueProblems(String value) {
        List<String> out = new ArrayList<>();
        if (value.length() > LABEL_VALUE_MAX) {
            out.add("must be no more than 63 characters");
        }
        if (!LABEL_VALUE.matcher(value).matches()) {
            out.add(LABEL_VALUE_MSG);
        }
        return out;
    }

    private static void labelValue(String field, String value, List<FieldError> errors) {
        labelValueProblems(value).forEach(p -> errors.add(FieldError.invalid(field, value, p)));
    }

    /** IsQualifiedName: [prefix/]name, the prefix a DNS subdomain, the name at most 63 characters. */
    public static List<String> qualifiedNameProblems(String value) {
        List<String> out = new ArrayList<>();
        String[] parts = value.split("/", -1);
        String name;
        if (parts.length == 1) {
            name = parts[0];
        } else if (parts.length == 2) {
            String prefix = parts[0];
            name = parts[1];
            if (prefix.isEmpty()) {
                out.add("prefix part must be non-empty");
            } else {
                if (prefix.length() > 253) {
                    out.add("prefix part must be no more than 253 characters");
                }
                if (!DNS1123_SUBDOMAIN.matcher(prefix).matches()) {
                    out.add("prefix part " + DNS1123_SUBDOMAIN_MSG);
                }
            }
        } else {
            out.add("a qualified name " + QUALIFIED_NAME_PART_MSG + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
            return out;
        }
        if (name.isEmpty()) {
            out.add("name part must be non-empty");
        } else {
            if (name.length() > 63) {
                out.add("name part must be no more than 63 characters");
            }
            if (!QUALIFIED_NAME.matcher(name).matches()) {
                out.add("name part " + QUALIFIED_NAME_PART_MSG);
            }
        }
        return out;
    }

    private static void qualifiedName(String field, String value, List<FieldError> errors) {
        qualifiedNameProblems(value).forEach(p -> errors.add(FieldError.invalid(field, value, p)));
    }

    static void dnsSubdomain(String field, String value, List<FieldError> errors) {
        if (value.length() > 253) {
            errors.add(FieldError.invalid(field, value, "must be no more than 253 characters"));
        }
        if (!DNS1123_SUBDOMAIN.matcher(value).matches()) {
            errors.add(FieldError.invalid(field, value, DNS1123_SUBDOMAIN_MSG));
        }
    }

    static void dnsLabel(String field, String value, List<FieldError> errors) {
        if (value.length() > 63) {
            errors.add(FieldError.invalid(field, value, "must be no more than 63 characters"));
        }
        if (!DNS1123_LABEL.matcher(value).matches()) {
            errors.add(FieldError.invalid(field, value, DNS1123_LABEL_MSG));
        }
    }

    private static void pod(JsonNode spec, List<FieldError> errors) {
        Set<String> volumes = new HashSet<>();
        int i = 0;
        for (JsonNode volume : spec.path("volumes")) {
            String at = "spec.volumes[" + i++ + "]";
            String name = volume.path("name").asText("");
            if (name.isEmpty()) {
                errors.add(FieldError.required(at + ".name"));
            } else {
                dnsLabel(at + ".name", name, errors);
                if (!volumes.add(name)) {
                    errors.add(FieldError.duplicate(at + ".name", name));
                }
            }
            if (volume.has("configMap")) {
                String cm = volume.path("configMap").path("name").asText("");
                if (cm.isEmpty()) {
                    errors.add(FieldError.required(at + ".configMap.name"));
                } else {
                    dnsSubdomain(at + ".configMap.name", cm, errors);
                }
            }
        }
        if (spec.path("containers").isEmpty()) {
            errors.add(FieldError.required("spec.containers"));
        }
        Set<String> containerNames = new HashSet<>();
        for (String list : List.of("initContainers", "containers")) {
            i = 0;
            for (JsonNode container : spec.path(list)) {
                container("spec." + list + "[" + i++ + "]", container, volumes, containerNames, errors);
            }
        }
        String restart = spec.path("restartPolicy").asText("Always");
        if (!List.of("Always", "OnFailure", "Never").contains(restart)) {
            errors.add(FieldError.notSupported("spec.restartPolicy", restart, "Always", "OnFailure", "Never"));
        }
        labels("spec.nodeSelector", spec.path("nodeSelector"), errors);
        for (String field : List.of("serviceAccountName", "priorityClassName")) {
            String value = spec.path(field).asText("");
            if (!value.isEmpty()) {
                dnsSubdomain("spec." + field, value, errors);
            }
        }
    }

    private static void container(String at, JsonNode c, Set<String> volumes, Set<String> names, List<FieldError> errors) {
        String name = c.path("name").asText("");
        if (name.isEmpty()) {
            errors.add(FieldError.required(at + ".name"));
        } else {
            dnsLabel(at + ".name", name, errors);
            if (!names.add(name)) {
                errors.add(FieldError.duplicate(at + ".name", name));
            }
        }
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
            String e = at + ".env[" + i++ + "]";
            String var = env.path("name").asText("");
            if (var.isEmpty()) {
                errors.add(FieldError.required(e + ".name"));
            } else if (!ENV_VAR_NAME.matcher(var).matches()) {
                errors.add(FieldError.invalid(e + ".name", var, ENV_VAR_MSG));
            }
            JsonNode secret = env.path("valueFrom").path("secretKeyRef");
            if (!secret.isMissingNode()) {
                if (secret.path("name").asText("").isEmpty()) {
                    errors.add(FieldError.required(e + ".valueFrom.secretKeyRef.name"));
                }
                String key = secret.path("key").asText("");
                if (key.isEmpty()) {
                    errors.add(FieldError.required(e + ".valueFrom.secretKeyRef.key"));
                } else if (!CONFIG_KEY.matcher(key).matches()) {
                    errors.add(FieldError.invalid(e + ".valueFrom.secretKeyRef.key", key, CONFIG_KEY_MSG));
                }
            }
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

    private static void resources(String at, JsonNode resources, List<FieldError> errors) {
        for (String section : List.of("limits", "requests")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = resources.path(section).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> r = it.next();
                String field = at + "." + section + "[" + r.getKey() + "]";
                if (!r.getKey().contains("/") && !STANDARD_RESOURCES.contains(r.getKey()) && !r.getKey().startsWith("hugepages-")) {
                    errors.add(FieldError.invalid(field, r.getKey(), "must be a standard resource type or fully qualified"));
                }
                qualifiedName(field, r.getKey(), errors);
                parseQuantity(r.getValue().asText()).filter(q -> q.signum() < 0)
                        .ifPresent(q -> errors.add(FieldError.invalid(field, r.getValue().asText(), "must be greater than or equal to 0")));
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = resources.path("requests").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> request = it.next();
            JsonNode limit = resources.path("limits").path(request.getKey());
            if (!limit.isMissingNode()) {
                Optional<BigDecimal> req = parseQuantity(request.getValue().asText());
                Optional<BigDecimal> lim = parseQuantity(limit.asText());
                if (req.isPresent() && lim.isPresent() && req.get().compareTo(lim.get()) > 0) {
                    errors.add(FieldError.invalid(at + ".requests", request.getValue().asText(),
                            "must be less than or equal to " + request.getKey() + " limit of " + limit.asText()));
                }
            }
        }
    }

    private static void configMap(JsonNode cm, List<FieldError> errors) {
        long size = 0;
        for (String section : List.of("data", "binaryData")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = cm.path(section).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                String key = entry.getKey();
                if (key.length() > 253) {
                    errors.add(FieldError.invalid(section + "[" + key + "]", key, "must be no more than 253 characters"));
                }
                if (!CONFIG_KEY.matcher(key).matches()) {
                    errors.add(FieldError.invalid(section + "[" + key + "]", key, CONFIG_KEY_MSG));
                }
                size += section.equals("data") ? bytes(entry.getValue().asText())
                        : java.util.Base64.getDecoder().decode(entry.getValue().asText()).length;
            }
        }
        if (size > CONFIG_MAP_MAX) {
            errors.add(FieldError.tooLong("[]", CONFIG_MAP_MAX));
        }
    }

    private static void event(JsonNode event, List<FieldError> errors) {
        String namespace = event.path("metadata").path("namespace").asText("");
        String involved = event.path("involvedObject").path("namespace").asText("");
        if (involved.isEmpty() ? !(namespace.isEmpty() || namespace.equals("default")) : !involved.equals(namespace)) {
            errors.add(FieldError.invalid("involvedObject.namespace", involved, "does not match event.namespace"));
        }
    }

    private static List<JsonNode> containers(JsonNode spec) {
        List<JsonNode> out = new ArrayList<>();
        spec.path("initContainers").forEach(out::add);
        spec.path("containers").forEach(out::add);
        return out;
    }

    private static final Pattern QUANTITY_PARTS = Pattern.compile("^([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$");

    /** resource.Quantity's grammar; the amount in base units, or empty when it does not parse. */
    static Optional<BigDecimal> parseQuantity(String s) {
        if (!QUANTITY.matcher(s).matches()) {
            return Optional.empty();
        }
        Matcher m = QUANTITY_PARTS.matcher(s);
        if (!m.matches()) {
            return Optional.empty();
        }
        BigDecimal number = new BigDecimal(m.group(1));
        String suffix = m.group(2) == null ? "" : m.group(2);
        BigDecimal factor = switch (suffix) {
            case "" -> BigDecimal.ONE;
            case "n" -> new BigDecimal("1e-9");
            case "u" -> new BigDecimal("1e-6");
            case "m" -> new BigDecimal("1e-3");
            case "k" -> new BigDecimal("1e3");
            case "M" -> new BigDecimal("1e6");
            case "G" -> new BigDecimal("1e9");
            case "T" -> new BigDecimal("1e12");
            case "P" -> new BigDecimal("1e15");
            case "E" -> new BigDecimal("1e18");
            case "Ki" -> BigDecimal.valueOf(1L << 10);
            case "Mi" -> BigDecimal.valueOf(1L << 20);
            case "Gi" -> BigDecimal.valueOf(1L << 30);
            case "Ti" -> BigDecimal.valueOf(1L << 40);
            case "Pi" -> BigDecimal.valueOf(1L << 50);
            case "Ei" -> BigDecimal.valueOf(1L << 60);
            default -> BigDecimal.ONE.scaleByPowerOfTen(Integer.parseInt(suffix.substring(1)));
        };
        return Optional.of(number.multiply(factor));
    }

    private static long bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
