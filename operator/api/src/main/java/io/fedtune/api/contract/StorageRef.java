package io.fedtune.api.contract;

/** An S3 endpoint; credentials come from the environment, never from the task. */
public record StorageRef(String endpoint, String region) {
}
