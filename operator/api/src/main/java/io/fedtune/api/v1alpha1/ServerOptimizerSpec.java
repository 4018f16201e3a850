package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Server optimizer settings; its state lives in object storage between rounds. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServerOptimizerSpec {

    @Default("None")
    @JsonPropertyDescription("None, FedAvgM, FedAdam, FedYogi or FedAdagrad. Default None.")
    public ServerOptimizer type = ServerOptimizer.None;

    @Default("1")
    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Server learning rate, > 0. Default 1.0 (with None or FedAvgM at momentum 0 this is plain averaging).")
    public Double learningRate = 1.0;

    @Default("0.9")
    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Momentum for FedAvgM and beta1 for FedAdam/FedYogi, in [0, 1). Default 0.9.")
    public Double beta1 = 0.9;

    @Default("0.99")
    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Second-moment decay beta2 for FedAdam/FedYogi, in [0, 1). Default 0.99.")
    public Double beta2 = 0.99;

    @Default("0.001")
    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Adaptivity tau added to the second-moment root, > 0. Default 1e-3.")
    public Double tau = 1e-3;
}
