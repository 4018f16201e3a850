package io.fedtune.operator.validation;

import java.util.regex.Pattern;

/** A field's path as kubectl and the API server print it: spec.evaluation.datasets[1].name, spec.trainer.nodeSelector[gpu]. */
final class FieldPath {
    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");
    private static final FieldPath ROOT = new FieldPath("");

    private final String text;

    private FieldPath(String text) {
        this.text = text;
    }

    static FieldPath root() {
        return ROOT;
    }

    FieldPath field(String name) {
        if (!PLAIN_NAME.matcher(name).matches()) {
            return key(name);
        }
        return new FieldPath(text.isEmpty() ? name : text + "." + name);
    }

    FieldPath index(int i) {
        return new FieldPath(text + "[" + i + "]");
    }

    FieldPath key(String mapKey) {
        return new FieldPath(text + "[" + mapKey + "]");
    }

    /** Appends a CEL rule's fieldPath such as {@code .spec.x} or {@code ['a.b']}. */
    FieldPath relative(String celFieldPath) {
        String suffix = celFieldPath.startsWith(".") ? celFieldPath : celFieldPath.startsWith("[") ? celFieldPath : "." + celFieldPath;
        return new FieldPath(text.isEmpty() ? suffix.replaceFirst("^\\.", "") : text + suffix);
    }

    boolean isRoot() {
        return text.isEmpty();
    }

    @Override
    public String toString() {
        return text.isEmpty() ? "<root>" : text;
    }
}
