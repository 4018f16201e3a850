package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** Global evaluation, rollback and early stopping. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EvaluationSpec {

    @Default("[]")
    @Size(max = 8)
    @ValidationRule(value = "self.all(d, self.exists_one(e, e.name == d.name))", message = "spec.evaluation.datasets names must be unique")
    @JsonPropertyDescription("Held-out sets in the run's storage, read with the run's credentials, each scored by its task. The first is the "
            + "primary one: its metric (in its direction: Loss down, Accuracy up) decides regression, the best adapter and early "
            + "stopping. Empty: the shards' own local eval losses are used.")
    public List<EvalDataset> datasets = new ArrayList<>();

    @Default("true")
    @JsonPropertyDescription("When a round's primary metric is worse than the best so far by more than regressionTolerance, the "
            + "next round starts from the best adapter instead. Default true.")
    public Boolean rollbackOnRegression = true;

    @Default("0")
    @Min(0)
    @JsonPropertyDescription("Relative worsening of the primary metric tolerated before a round counts as a regression, >= 0. Default 0.")
    public Double regressionTolerance = 0.0;

    @JsonPropertyDescription("Stops the run early when the primary metric stops improving. Absent: off.")
    public EarlyStoppingSpec earlyStopping;
}
