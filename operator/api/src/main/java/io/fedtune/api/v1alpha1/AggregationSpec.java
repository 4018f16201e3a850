package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.ValidationRule;

/** Aggregation: strategy, weighting, server optimizer, robustness and privacy. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.robustness.combine == 'Mean' || self.strategy == 'FedAvg' || self.strategy == 'FFA'",
        message = "spec.aggregation.robustness.combine TrimmedMean and Median work coordinate-wise: use them with strategy FedAvg or FFA")
@ValidationRule(value = "self.strategy != 'ExactProduct' || (self.serverOptimizer.type == 'None' && !has(self.privacy))",
        message = "spec.aggregation.strategy ExactProduct re-factors the update, so serverOptimizer.type must be None and privacy "
                + "absent: use FedAvg or FFA with a server optimizer or differential privacy")
public class AggregationSpec {

    @Default("FedAvg")
    @JsonPropertyDescription("FedAvg (average A and B separately), FFA (average B over a frozen shared A; exact) or "
            + "ExactProduct (weighted sum of B·A re-factored to the run's rank; exact up to truncation). Default FedAvg.")
    public AggregationStrategy strategy = AggregationStrategy.FedAvg;

    @Default("Samples")
    @JsonPropertyDescription("Samples (weight by training samples) or Uniform. Either is multiplied by a shard's spec.weight. Default Samples.")
    public Weighting weighting = Weighting.Samples;

    @Default("{}")
    @JsonPropertyDescription("Server-side optimizer on the pseudo-gradient (aggregate minus previous global).")
    public ServerOptimizerSpec serverOptimizer = new ServerOptimizerSpec();

    @Default("{}")
    @JsonPropertyDescription("Defences against outsized or poisoned updates.")
    public RobustnessSpec robustness = new RobustnessSpec();

    @JsonPropertyDescription("Central differential privacy at the client level. Absent: off.")
    public PrivacySpec privacy;
}
