package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One participant's local evaluation in a round: the global adapter it started from versus its own. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LocalEval {

    @JsonPropertyDescription("ClientShard name.")
    public String shard;

    @JsonPropertyDescription("Metric of its eval data's task, e.g. Loss or Accuracy.")
    public String metric;

    @JsonPropertyDescription("The global adapter it started from, on its own held-out data.")
    public Double global;

    @JsonPropertyDescription("Its adapter after local training, on the same data.")
    public Double local;

    public LocalEval() {
    }

    public LocalEval(String shard, String metric, Double global, Double local) {
        this.shard = shard;
        this.metric = metric;
        this.global = global;
        this.local = local;
    }
}
