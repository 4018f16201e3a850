package io.fedtune.api.contract;

/** {@code s3://bucket/key}, the form of every object location in the contract; a key ending in / or empty is a prefix. */
public record S3Uri(String bucket, String key) {

    public static boolean isS3(String location) {
        return location != null && location.startsWith("s3://");
    }

    public static S3Uri parse(String uri) {
        if (!isS3(uri)) {
            throw new IllegalArgumentException("not an s3:// URI: " + uri);
        }
        String rest = uri.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        if (bucket.isEmpty()) {
            throw new IllegalArgumentException("s3 URI without a bucket: " + uri);
        }
        return new S3Uri(bucket, slash < 0 ? "" : rest.substring(slash + 1));
    }

    /** This URI as a prefix, ending with / unless it is the bucket root. */
    public String prefix() {
        return key.isEmpty() || key.endsWith("/") ? key : key + "/";
    }

    public S3Uri child(String name) {
        return new S3Uri(bucket, prefix() + name);
    }

    @Override
    public String toString() {
        return "s3://" + bucket + "/" + key;
    }
}
