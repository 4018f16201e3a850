package io.fedtune.operator.signing;

import io.fedtune.api.contract.S3Uri;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Presigns path-style S3 URLs with AWS Signature Version 4 (query-string authentication), locally: no request is
 * made. Its own signer rather than an S3 client's, so that the signing time comes from the operator's {@link Clock}
 * and a URL expires exactly at the round's deadline.
 */
public final class Presigner {
    /** SigV4's longest validity. */
    public static final Duration MAX_EXPIRY = Duration.ofDays(7);
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final String ALGORITHM = "AWS4-HMAC-SHA256";

    public enum Method { GET, PUT }

    /** A presigned URL and the moment it stops working. */
    public record Signed(String url, Instant expires) {
        @Override
        public String toString() {
            return "Signed[" + io.fedtune.api.contract.PresignedAccess.redact(url) + ", " + expires + "]";
        }
    }

    private final URI endpoint;
    private final String region;
    private final Supplier<SigningKeys> keys;
    private final Clock clock;

    Presigner(URI endpoint, String region, Supplier<SigningKeys> keys, Clock clock) {
        this.endpoint = endpoint;
        this.region = region;
        this.keys = keys;
        this.clock = clock;
    }

    /** The signing time: the operator's clock, to the second. */
    public Instant now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    }

    /**
     * @param until when the URL should stop working; kept within SigV4's limits (at least 1 s from now, at most 7 days)
     */
    public Signed presign(Method method, S3Uri object, Instant until) {
        Instant now = now();
        long seconds = Math.max(1, Math.min(MAX_EXPIRY.toSeconds(), Duration.between(now, until).toSeconds()));
        String path = "/" + encode(object.bucket(), false) + "/" + encode(object.key(), true);
        String base = endpoint.getScheme() + "://" + host() + path;
        return new Signed(base + "?" + signedQuery(method.name(), host(), path, now, seconds, keys.get()),
                now.plusSeconds(seconds));
    }

    /** The query of a presigned request, signature last: the canonical request of SigV4 with an unsigned payload. */
    String signedQuery(String method, String host, String path, Instant now, long seconds, SigningKeys k) {
        String date = AMZ_DATE.format(now);
        String scope = date.substring(0, 8) + "/" + region + "/s3/aws4_request";
        Map<String, String> query = new TreeMap<>();
        query.put("X-Amz-Algorithm", ALGORITHM);
        query.put("X-Amz-Credential", k.accessKeyId + "/" + scope);
        query.put("X-Amz-Date", date);
        query.put("X-Amz-Expires", Long.toString(seconds));
        query.put("X-Amz-SignedHeaders", "host");
        if (k.sessionToken != null && !k.sessionToken.isEmpty()) {
            query.put("X-Amz-Security-Token", k.sessionToken);
        }
        StringBuilder canonicalQuery = new StringBuilder();
        query.forEach((name, value) -> canonicalQuery.append(canonicalQuery.isEmpty() ? "" : "&")
                .append(encode(name, false)).append('=').append(encode(value, false)));
        String canonicalRequest = String.join("\n", method, path, canonicalQuery, "host:" + host, "", "host", "UNSIGNED-PAYLOAD");
        String stringToSign = String.join("\n", ALGORITHM, date, scope, hex(sha256(canonicalRequest)));
        byte[] key = hmac(("AWS4" + k.secretAccessKey).getBytes(StandardCharsets.UTF_8), date.substring(0, 8));
        for (String part : new String[] {region, "s3", "aws4_request"}) {
            key = hmac(key, part);
        }
        return canonicalQuery + "&X-Amz-Signature=" + hex(hmac(key, stringToSign));
    }

    /** The Host header a client sends: the port only when it is not the scheme's default. */
    private String host() {
        int port = endpoint.getPort();
        boolean defaultPort = port == -1 || (port == 80 && "http".equals(endpoint.getScheme()))
                || (port == 443 && "https".equals(endpoint.getScheme()));
        return endpoint.getHost() + (defaultPort ? "" : ":" + port);
    }

    /** SigV4's URI encoding: every byte but unreserved characters percent-encoded; '/' kept in an object key. */
    static String encode(String s, boolean keepSlash) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.' || c == '~' || (keepSlash && c == '/')) {
                out.append(c);
            } else {
                out.append('%').append(HexFormat.of().withUpperCase().toHexDigits(b));
            }
        }
        return out.toString();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
