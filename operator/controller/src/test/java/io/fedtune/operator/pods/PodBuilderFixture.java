package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.operator.Fixtures;

/** A run and a shard whose pods a test builds with the pod builders, after setting what it checks on their specs. */
abstract class PodBuilderFixture {
    static final PodDefaults DEFAULTS = new PodDefaults("default/image:0", "2", "8Gi", "30Gi");

    final FederatedRun run = run();
    final ClientShard shard = Fixtures.shard("site-a", "g");

    private static FederatedRun run() {
        FederatedRun run = Fixtures.run("demo", "g", 3);
        run.getMetadata().setUid("uid-1");
        return run;
    }

    Pod trainer() {
        return new TrainerPodBuilder(DEFAULTS, Fixtures.signers()).build(run, new FederatedRunStatus(), shard, 1, 1);
    }

    Pod aggregator() {
        AggregateTask task = AggregationPodBuilderTest.task(run, 2);
        return new AggregationPodBuilder(DEFAULTS).build(run, task).pod();
    }
}
