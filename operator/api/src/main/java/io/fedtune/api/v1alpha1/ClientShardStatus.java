package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** When a shard last took part, and with what result. Written by the operator only. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ClientShardStatus {

    @JsonPropertyDescription("metadata.generation of the spec this status describes.")
    public Long observedGeneration;

    @JsonPropertyDescription("FederatedRun the shard last trained for.")
    public String lastRun;

    @JsonPropertyDescription("Round the shard last trained in.")
    public Integer lastRound;

    @JsonPropertyDescription("Training samples in its last round.")
    public Long samples;

    @JsonPropertyDescription("Final training loss of its last round.")
    public Double trainLoss;

    @JsonPropertyDescription("Eval loss of the global adapter on the shard's eval data before its last round's training.")
    public Double evalLossBefore;

    @JsonPropertyDescription("Eval loss of the shard's adapter on its eval data after its last round's training.")
    public Double evalLossAfter;

    @JsonPropertyDescription("Metric of its local eval data's task, e.g. Loss or Accuracy.")
    public String evalMetric;

    @JsonPropertyDescription("evalMetric of the global adapter on its eval data before its last round's training.")
    public Double evalBefore;

    @JsonPropertyDescription("evalMetric of its own adapter on the same data after its last round's training.")
    public Double evalAfter;

    @JsonPropertyDescription("Device its last round trained on, as the trainer reported it: cpu or gpu.")
    public String device;

    @JsonPropertyDescription("Precision its last round trained in, as the trainer reported it: FP32 or BF16.")
    public String precision;

    @JsonPropertyDescription("Where its last round's base model came from: hit (the cache, spec.trainer.cache), miss "
            + "(downloaded into it) or off (no cache).")
    public String cache;

    @JsonPropertyDescription("s3:// prefix of its latest adapter.")
    public String lastAdapter;

    @JsonPropertyDescription("Rounds in a row in which its trainer failed or was cut.")
    public Integer consecutiveFailures;

    @JsonPropertyDescription("Round of lastRun whose outcome (trained, failed or cut) this status already counts.")
    public Integer lastSelectedRound;

    @JsonPropertyDescription("Ready (valid and usable) and Degraded (failing rounds in a row).")
    public List<Condition> conditions = new ArrayList<>();
}
