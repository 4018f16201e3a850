package io.fedtune.trainer.storage;

import java.util.regex.Pattern;

/**
 * Text for people with every URL's query string cut off ({@link io.fedtune.api.contract.PresignedAccess#redact}): a
 * presigned URL's query is its signature, a bearer credential, and must never reach a message, a log or a file.
 */
public final class Redaction {
    private static final Pattern URL_QUERY = Pattern.compile("(?i)(https?://[^\\s?\"'<>]*)\\?[^\\s\"'<>]*");
    private static final Pattern SIGNATURE = Pattern.compile("(?i)(X-Amz-(Signature|Credential|Security-Token))=[^&\\s\"'<>]*");

    private Redaction() {
    }

    /** The text with URL queries cut and any signature parameter that is left (a URL without its scheme) blanked. */
    public static String of(String text) {
        if (text == null) {
            return null;
        }
        return SIGNATURE.matcher(URL_QUERY.matcher(text).replaceAll("$1?...")).replaceAll("$1=...");
    }
}
