package io.fedtune.operator.shard;

import io.fedtune.api.contract.TrainResult;

/** Where a recorded round's part of each shard goes: the shard's own status (participation fields). Idempotent per round. */
public interface ShardParticipation {
    void trained(String namespace, String shard, String run, int round, TrainResult result);

    /** The shard's trainer failed for good or was cut by the round timeout. */
    void failed(String namespace, String shard, String run, int round);
}
