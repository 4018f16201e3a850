package io.fedtune.api.contract;

import java.util.Map;

/**
 * Everything a trainer pod may do in the run's storage: presigned URLs the operator signed with the signing credential
 * mounted into its own pod. The pod holds no credential for the run's storage: it can GET exactly these files and PUT
 * exactly its own update's files at its own round/shard/attempt prefix, until {@code expires} (the round's deadline);
 * nothing in it can list the bucket or reach another key. A URL is a bearer credential: never log or report it
 * ({@link #redact} for messages).
 *
 * @param expires       RFC 3339 time every URL stops working
 * @param baseModel     GET for each file of the base checkpoint, by file name, with the SHA-256 the operator recorded
 * @param globalAdapter GET for each file of the global adapter the round starts from, by name; null in round 1
 * @param output        PUT for each file the trainer writes, by name (adapter_config.json, adapter_model.safetensors,
 *                      manifest.json), under the task's output prefix
 */
public record PresignedAccess(
        String expires,
        Map<String, Get> baseModel,
        Map<String, Get> globalAdapter,
        Map<String, String> output) {

    /**
     * One file to read.
     *
     * @param url    presigned GET
     * @param sha256 the SHA-256 (hex) the file must have; a different one is InputTampered. Null: not recorded
     */
    public record Get(String url, String sha256) {
    }

    /** A URL with its query (the signature) cut off, for a message: {@code https://host/bucket/key?...}. */
    public static String redact(String url) {
        int q = url == null ? -1 : url.indexOf('?');
        return q < 0 ? url : url.substring(0, q) + "?...";
    }
}
