package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** Client-level central differential privacy: clip each update, add Gaussian noise to the sum. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PrivacySpec {

    @Required
    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Clip norm C (> 0): each shard's update is scaled to L2 norm at most C.")
    public Double clipNorm;

    @Required
    @Min(0)
    @JsonPropertyDescription("Noise multiplier z (>= 0): Gaussian noise with standard deviation z·C is added to the sum of updates.")
    public Double noiseMultiplier;

    @Default("0.00001")
    @Min(value = 0, inclusive = false)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Target delta of the reported (epsilon, delta) guarantee, in (0, 1). Default 1e-5.")
    public Double delta = 1e-5;
}
