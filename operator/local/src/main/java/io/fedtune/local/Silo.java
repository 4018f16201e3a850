package io.fedtune.local;

import java.util.Set;

/**
 * An S3 endpoint the manifests use and the one identity that may use it, with the objects to seed into it.
 *
 * @param endpoint  http://127.0.0.1:PORT
 * @param accessKey its access key id
 * @param secretKey its secret
 * @param owner     who it belongs to, for messages: "run storage" or "shard NAME"
 * @param objects   s3:// URIs to upload from the local data folder before the run starts
 */
public record Silo(String endpoint, String accessKey, String secretKey, String owner, Set<String> objects) {
}
