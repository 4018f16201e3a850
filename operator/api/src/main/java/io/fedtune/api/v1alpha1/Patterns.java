package io.fedtune.api.v1alpha1;

/** Regular expressions shared by the schema annotations. */
public final class Patterns {
    /** A Go-style duration with units h, m, s or ms, as Kubernetes writes them: "90s", "1h30m". */
    public static final String DURATION = "^([0-9]+(ms|s|m|h))+$";
    /** An object or prefix in S3: s3://bucket/key. */
    public static final String S3_URI = "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$";
    /** An RFC 1123 label: lower case alphanumerics and '-', starting and ending alphanumeric. */
    public static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    /** An RFC 1123 subdomain: the names of most Kubernetes objects. */
    public static final String DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    /** A key in a Secret's data. */
    public static final String SECRET_KEY = "^[-._a-zA-Z0-9]+$";
    /** An S3 bucket name. */
    public static final String BUCKET = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
    /**
     * An http(s) endpoint: scheme, host and port, nothing after them but an optional "/". S3 clients address buckets
     * under the endpoint's root, and refuse (or silently drop) a path such as http://host:9000/foo.
     */
    public static final String ENDPOINT = "^https?://[^\\s/?#]+/?$";
    /** A resource quantity as Kubernetes writes one: 512Mi, 20Gi, 1.5G. */
    public static final String QUANTITY = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";

    private Patterns() {
    }
}
