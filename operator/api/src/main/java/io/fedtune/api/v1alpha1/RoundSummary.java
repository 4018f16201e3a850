package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What happened in one round. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class RoundSummary {

    /**
     * Names kept per list (participants, refused, stragglers, failed): the counts say how many there were. A round of
     * 1,000 shards would otherwise put 1,000 names per round into every status write, HISTORY_LIMIT rounds of them.
     */
    public static final int NAMES_LIMIT = 10;

    /** Failure reasons counted in failedAttemptReasons; the rest are counted together as "other". */
    public static final int ATTEMPT_REASONS_LIMIT = 6;

    /** Device/precision kinds named in trainerDevices; the rest are counted together as "other". */
    public static final int DEVICE_GROUPS_LIMIT = 4;

    @JsonPropertyDescription("Round number, from 1.")
    public Integer round;

    @JsonPropertyDescription("Completed, RolledBack or Failed.")
    public RoundOutcome outcome;

    @JsonPropertyDescription("Shards whose updates were aggregated (the first " + NAMES_LIMIT + "; participantCount says how many).")
    public List<String> participants = new ArrayList<>();

    @JsonPropertyDescription("Number of shards whose updates were aggregated.")
    public Integer participantCount;

    @JsonPropertyDescription("Updates the aggregator refused, with reasons (the first " + NAMES_LIMIT + ").")
    public List<RefusedUpdate> refused = new ArrayList<>();

    @JsonPropertyDescription("Number of updates the aggregator refused.")
    public Integer refusedCount;

    @JsonPropertyDescription("Shards cut by the round timeout (the first " + NAMES_LIMIT + ").")
    public List<String> stragglers = new ArrayList<>();

    @JsonPropertyDescription("Number of shards cut by the round timeout.")
    public Integer stragglerCount;

    @JsonPropertyDescription("Shards whose trainer failed after all retries (the first " + NAMES_LIMIT + ").")
    public List<String> failed = new ArrayList<>();

    @JsonPropertyDescription("Number of shards whose trainer failed after all retries.")
    public Integer failedCount;

    @JsonPropertyDescription("Trainer attempts of the round that failed, retried or not, including those of shards that "
            + "succeeded on a later attempt.")
    public Integer failedAttempts;

    @JsonPropertyDescription("Failed trainer attempts counted per failure reason, e.g. {StorageUnreachable: 5, "
            + "ContainerFailed: 1} (at most " + ATTEMPT_REASONS_LIMIT + " reasons, most first, then \"other\"; \"Unrecorded\" for "
            + "an attempt whose pod is gone). Absent when none failed.")
    public Map<String, Integer> failedAttemptReasons = new LinkedHashMap<>();

    @JsonPropertyDescription("Shards with at least one failed trainer attempt (the first " + NAMES_LIMIT
            + "; failedAttemptShardCount says how many).")
    public List<String> failedAttemptShards = new ArrayList<>();

    @JsonPropertyDescription("Number of shards with at least one failed trainer attempt.")
    public Integer failedAttemptShardCount;

    @JsonPropertyDescription("Mean of the participants' final training losses.")
    public Double meanTrainLoss;

    @JsonPropertyDescription("Primary global eval loss of the round's aggregate.")
    public Double globalEvalLoss;

    @JsonPropertyDescription("Name of the metric that ranks the round: the primary eval set's (Loss without eval sets).")
    public String evalMetric;

    @JsonPropertyDescription("The round's aggregate's value of evalMetric on the primary set (without eval sets: the mean of "
            + "the participants' local losses after training).")
    public Double globalEvalScore;

    @JsonPropertyDescription("Global eval loss per named eval set.")
    public Map<String, Double> evalLosses = new LinkedHashMap<>();

    @JsonPropertyDescription("Every metric of each named eval set, e.g. {out-of-domain: {Accuracy: 0.5, AccuracyNorm: 0.55, Loss: 2.1}}.")
    public Map<String, Map<String, Double>> evalScores = new LinkedHashMap<>();

    @JsonPropertyDescription("Per participant (the first " + NAMES_LIMIT + "), its local eval metric on its own held-out data: "
            + "the global adapter it started from and its adapter after training.")
    public List<LocalEval> localEvals = new ArrayList<>();

    @JsonPropertyDescription("Differential-privacy epsilon spent so far, when privacy is on.")
    public Double epsilon;

    @JsonPropertyDescription("Device/precision of the round's successful trainers as they reported it, counted, e.g. "
            + "\"gpu/BF16 x3, cpu/FP32 x1\" (at most " + DEVICE_GROUPS_LIMIT + " kinds, then \"other x<n>\"; \"unreported\" for "
            + "images that do not say). Absent when none reported one.")
    public String trainerDevices;

    @JsonPropertyDescription("Device/precision of the aggregation's global evaluation, e.g. gpu/BF16. Absent when none ran.")
    public String aggregationDevice;

    @JsonPropertyDescription("Successful trainers that found the base model in their cache (spec.trainer.cache). Absent, "
            + "with cacheMisses, when no trainer of the round used a cache.")
    public Integer cacheHits;

    @JsonPropertyDescription("Successful trainers that downloaded the base model into their cache.")
    public Integer cacheMisses;

    @JsonPropertyDescription("RFC 3339 time the round started.")
    public String startedAt;

    @JsonPropertyDescription("Seconds from round start until the last trainer finished or was cut.")
    public Double trainingSeconds;

    @JsonPropertyDescription("Seconds the aggregation took.")
    public Double aggregationSeconds;

    @JsonPropertyDescription("Why the round ended as it did.")
    public String message;
}
