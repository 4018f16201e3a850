package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;

/** Which shards take part in each round, and what a round tolerates. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.storageRetryTimeout) || duration(self.storageRetryTimeout) <= duration(self.roundTimeout)",
        message = "spec.participation.storageRetryTimeout must be at most spec.participation.roundTimeout: shorten it, or "
                + "lengthen the round timeout")
public class ParticipationSpec {
    /** What a run without storageRetryTimeout gets (capped by its roundTimeout). */
    public static final String DEFAULT_STORAGE_RETRY_TIMEOUT = "5m";


    @JsonPropertyDescription("Selects the ClientShards of this run, in the run's namespace. Absent: every ClientShard in the namespace.")
    public LabelSelector shardSelector;

    @Default("1")
    @Min(value = 0, inclusive = false)
    @Max(1)
    @JsonPropertyDescription("Fraction of the eligible shards sampled each round, in (0, 1] (at least one is always taken). "
            + "Sampling is seeded by training.seed and the round number, so a restarted operator picks the same shards. Default 1.")
    public Double fraction = 1.0;

    @Min(1)
    @JsonPropertyDescription("Upper bound on the shards sampled per round, >= 1. Absent: no bound.")
    public Integer maxShardsPerRound;

    @Default("1")
    @Min(1)
    @JsonPropertyDescription("Fewest successful shard updates for a round to count, >= 1; a round with fewer fails. Default 1.")
    public Integer minShards = 1;

    @Default("30m")
    @Pattern(Patterns.DURATION)
    @JsonPropertyDescription("Time a round's training may take, as a duration (e.g. 90s, 30m, 1h); trainers still running then are "
            + "cut as stragglers. Default 30m.")
    public String roundTimeout = "30m";

    @Default("10m")
    @Pattern(Patterns.DURATION)
    @JsonPropertyDescription("Time a trainer or aggregation pod may stay Pending (unschedulable, pulling its image, waiting for a "
            + "volume) before it is cut and counted as a failed attempt (reason PodUnschedulable or StartTimeout), as a "
            + "duration. A pod the kubelet cannot start (ImagePullBackOff, InvalidImageName, CreateContainerConfigError) is "
            + "cut after a one-minute grace. Default 10m.")
    public String startTimeout = "10m";

    @Default("2")
    @Min(0)
    @Max(10)
    @JsonPropertyDescription("Retries of a failed trainer or aggregation pod within a round, with exponential backoff (0..10). Default 2.")
    public Integer maxRetries = 2;

    @Default("10s")
    @Pattern(Patterns.DURATION)
    @JsonPropertyDescription("Backoff before the first retry; doubled for each further one. Default 10s.")
    public String retryBackoff = "10s";

    @Pattern(Patterns.DURATION)
    @JsonPropertyDescription("How long a trainer or aggregation pod retries the run's object storage through an outage "
            + "(connection refused, timeouts, 5xx, throttling) before it fails with StorageUnreachable, as a duration, at "
            + "most roundTimeout. Such a failure is the storage's, not the shard's: it is retried after a backoff (retryBackoff "
            + "doubled, at most a minute) for as long as the round timeout allows, without counting against maxRetries. "
            + "Absent: 5m, or roundTimeout when that is shorter.")
    public String storageRetryTimeout;
}
