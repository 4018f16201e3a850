package io.fedtune.strictapi;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The name syntaxes of k8s.io/apimachinery's validation, worded as it words them: DNS-1123 labels and subdomains,
 * qualified names (label and annotation keys, finalizers, resource names), label values and config keys.
 */
public final class NameRules {
    static final int LABEL_VALUE_MAX = 63;
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern QUALIFIED_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
    private static final Pattern CONFIG_KEY = Pattern.compile("[-._a-zA-Z0-9]+");

    static final String DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    static final String DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    static final String LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    private static final String QUALIFIED_NAME_PART_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    static final String CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

    private NameRules() {
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

    static void qualifiedName(String field, String value, List<FieldError> errors) {
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

    /** A required DNS-1123 label, unique among {@code seen}, which it joins: a pod's volume and container names. */
    static void uniqueDnsLabel(String field, String value, Set<String> seen, List<FieldError> errors) {
        if (value.isEmpty()) {
            errors.add(FieldError.required(field));
        } else {
            dnsLabel(field, value, errors);
            if (!seen.add(value)) {
                errors.add(FieldError.duplicate(field, value));
            }
        }
    }

    /** The syntax of a ConfigMap's or Secret's key, without its length limit. */
    static boolean isConfigKey(String key) {
        return CONFIG_KEY.matcher(key).matches();
    }
}
