package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.v1alpha1.AggregationStrategy;
import io.fedtune.trainer.aggregate.RoundFailed;
import java.util.Map;

/** The strategies by the name the run's spec gives them: one line each. */
public final class Strategies {
    private static final Map<AggregationStrategy, Strategy> REGISTERED = Map.of(
            AggregationStrategy.FedAvg, new FedAvg(),
            AggregationStrategy.FFA, new Ffa(),
            AggregationStrategy.ExactProduct, new ExactProduct());

    private Strategies() {
    }

    public static Strategy of(AggregationStrategy name) throws RoundFailed {
        Strategy s = REGISTERED.get(name);
        if (s == null) {
            throw new RoundFailed(FailureReason.InvalidTask, "this aggregator has no strategy " + name);
        }
        return s;
    }
}
