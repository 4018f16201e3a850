package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** Early stopping on the primary eval set's metric. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EarlyStoppingSpec {

    @Required
    @Min(1)
    @io.fabric8.generator.annotation.Max(1000)
    @JsonPropertyDescription("Rounds without an improvement of at least minDelta before the run stops as Succeeded (1..1000).")
    public Integer patience;

    @Default("0")
    @Min(0)
    @JsonPropertyDescription("Smallest improvement of the primary eval set's metric (in its units: a decrease of Loss, an increase of "
            + "Accuracy or RougeL) that counts, >= 0. Default 0.")
    public Double minDelta = 0.0;
}
