package io.fedtune.strictapi;

/**
 * One field an API server refuses, worded as k8s.io/apimachinery's field.Error prints it, e.g.
 * {@code metadata.labels: Invalid value: "x...": must be no more than 63 characters}.
 *
 * @param type   FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueTooLong, FieldValueNotFound,
 *               FieldValueDuplicate
 * @param value  the offending value (null when not shown)
 */
public record FieldError(String field, String type, String value, String detail) {

    static FieldError invalid(String field, String value, String detail) {
        return new FieldError(field, "FieldValueInvalid", value, detail);
    }

    static FieldError required(String field) {
        return new FieldError(field, "FieldValueRequired", null, "");
    }

    static FieldError notSupported(String field, String value, String... supported) {
        StringBuilder s = new StringBuilder("supported values: ");
        for (int i = 0; i < supported.length; i++) {
            s.append(i == 0 ? "" : ", ").append('"').append(supported[i]).append('"');
        }
        return new FieldError(field, "FieldValueNotSupported", value, s.toString());
    }

    static FieldError tooLong(String field, long max) {
        return new FieldError(field, "FieldValueTooLong", null, "must have at most " + max + " bytes");
    }

    static FieldError notFound(String field, String value) {
        return new FieldError(field, "FieldValueNotFound", value, "");
    }

    static FieldError duplicate(String field, String value) {
        return new FieldError(field, "FieldValueDuplicate", value, "");
    }

    /** The part after "field: ", as the Status cause's message carries it. */
    public String causeMessage() {
        String head = switch (type) {
            case "FieldValueRequired" -> "Required value";
            case "FieldValueNotSupported" -> "Unsupported value";
            case "FieldValueTooLong" -> "Too long";
            case "FieldValueNotFound" -> "Not found";
            case "FieldValueDuplicate" -> "Duplicate value";
            default -> "Invalid value";
        };
        String shown = value == null ? "" : ": \"" + value + "\"";
        return head + shown + (detail.isEmpty() ? "" : ": " + detail);
    }

    @Override
    public String toString() {
        return field + ": " + causeMessage();
    }
}
