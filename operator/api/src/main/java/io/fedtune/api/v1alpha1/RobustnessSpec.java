package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Norm bounds and robust combination. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RobustnessSpec {

    @Default("Refuse")
    @JsonPropertyDescription("Off, Clip (scale down to the bound) or Refuse an update whose norm exceeds normBoundFactor times the "
            + "median update norm of the round. Default Refuse.")
    public NormBoundMode normBound = NormBoundMode.Refuse;

    @Default("10")
    @Min(1)
    @JsonPropertyDescription("The bound, as a multiple (>= 1) of the median update norm of the round. Default 10.")
    public Double normBoundFactor = 10.0;

    @Default("Mean")
    @JsonPropertyDescription("Mean, TrimmedMean or Median, coordinate-wise. Default Mean.")
    public Combine combine = Combine.Mean;

    @Default("0.1")
    @Min(0)
    @Max(value = 0.5, inclusive = false)
    @JsonPropertyDescription("For TrimmedMean: fraction of the largest and of the smallest values dropped per coordinate, in [0, 0.5). Default 0.1.")
    public Double trimFraction = 0.1;
}
