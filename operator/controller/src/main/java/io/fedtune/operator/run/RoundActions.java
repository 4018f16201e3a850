package io.fedtune.operator.run;

import io.fedtune.operator.events.RunEvents;
import io.fedtune.operator.metrics.RunMetrics;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.shard.ShardParticipation;
import io.fedtune.operator.validation.ResourceValidator;

/** What the round steps act through: the outside systems behind small interfaces, and the pod builders. */
public record RoundActions(
        RunPods pods,
        RunEvents events,
        RunMetrics metrics,
        TrainerPodBuilder trainers,
        AggregationPodBuilder aggregators,
        ShardParticipation shardStatus,
        ResourceValidator validator) {
}
