package io.fedtune.api.contract;

/**
 * A shard update the aggregator refused, with one of the {@link RefusalReason}s. The reason stays a string on the wire:
 * a user's own aggregator image may name one this version does not know.
 */
public record Refusal(String shard, String reason, String message) {

    public Refusal(String shard, RefusalReason reason, String message) {
        this(shard, reason.name(), message);
    }
}
