package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** Where a run stands. Written by the operator only. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FederatedRunStatus {

    /** Rounds kept in history; older ones are dropped. */
    public static final int HISTORY_LIMIT = 20;

    @JsonPropertyDescription("metadata.generation of the spec this status describes.")
    public Long observedGeneration;

    @JsonPropertyDescription("Pending, Running, Suspended, Succeeded or Failed.")
    public Phase phase;

    @JsonPropertyDescription("Preparing, Training, Aggregating, Publishing or Idle.")
    public Stage stage;

    @JsonPropertyDescription("Round in progress (or the last one), from 1.")
    public Integer currentRound;

    @JsonPropertyDescription("Rounds finished, whatever their outcome.")
    public Integer completedRounds;

    @JsonPropertyDescription("currentRound/rounds, for display, e.g. 3/10.")
    public String progress;

    @JsonPropertyDescription("RFC 3339 time the current round started.")
    public String roundStartedAt;

    @JsonPropertyDescription("ClientShards sampled for the current round, recorded when it starts so a restarted operator "
            + "trains the same ones.")
    public List<String> roundShards = new ArrayList<>();

    @JsonPropertyDescription("The latest " + HISTORY_LIMIT + " rounds, oldest first.")
    public List<RoundSummary> history = new ArrayList<>();

    @JsonPropertyDescription("The global adapter the next round starts from (after a rollback: the best one).")
    public AdapterRef latestAdapter;

    @JsonPropertyDescription("SHA-256 (hex) of each server state file (optimizer state, privacy ledger) the latest "
            + "aggregation wrote, by file name: the next aggregation refuses a different one (InputTampered).")
    public java.util.Map<String, String> optimizerStateSha256;

    @JsonPropertyDescription("The global adapter with the lowest primary eval loss so far: the run's result.")
    public AdapterRef bestAdapter;

    @JsonPropertyDescription("Every file of the base checkpoint with its SHA-256, as the run's preparation found them "
            + "before round 1; every pod that reads the base model checks them.")
    public List<ModelFile> baseModel;

    @JsonPropertyDescription("Where a succeeded run's result was published: the best global adapter copied to the run's "
            + "final/ prefix, with its round, SHA-256 and eval loss.")
    public AdapterRef result;

    @JsonPropertyDescription("Shard counts.")
    public ShardCounts shards;

    @JsonPropertyDescription("Rounds since the primary eval loss last improved (for early stopping).")
    public Integer roundsWithoutImprovement;

    @JsonPropertyDescription("The immutable spec fields as the run started.")
    public StartedWith startedWith;

    @JsonPropertyDescription("Ready, Progressing, Succeeded, Failed, Degraded and Suspended, per Kubernetes API conventions.")
    public List<Condition> conditions = new ArrayList<>();
}
