package io.fedtune.operator.pods;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.strictapi.ObjectRules;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Run and shard names may be 253 characters long (DNS subdomains); label values at most 63. */
class LongNamesTest {
    private static final String RUN = "run-" + "r".repeat(243) + ".x.y-z";
    private static final String SHARD = "shard-" + "s".repeat(241) + ".a.b-c";

    @Test
    void podsAndTaskConfigMapsOfLongNamesAreValidObjects() {
        assertThat(RUN).hasSize(253);
        assertThat(SHARD).hasSize(253);
        FederatedRun run = Fixtures.run(RUN, "g", 1);
        run.getMetadata().setUid("uid-1");
        ClientShard shard = Fixtures.shard(SHARD, "g");

        Pod trainer = new TrainerPodBuilder("i", Fixtures.signers()).build(run, new FederatedRunStatus(), shard, 1, 1);
        var aggregation = new AggregationPodBuilder("i").build(run, AggregationPodBuilderTest.task(run, 3));

        assertThat(ObjectRules.validate(json(trainer))).isEmpty();
        assertThat(ObjectRules.validate(json(aggregation.pod()))).isEmpty();
        assertThat(ObjectRules.validate(json(aggregation.task()))).isEmpty();
    }

    @Test
    void theRunAndShardAreReadBackAndSelectedByTheirFullNames() {
        FederatedRun run = Fixtures.run(RUN, "g", 1);
        run.getMetadata().setUid("uid-1");
        ClientShard shard = Fixtures.shard(SHARD, "g");
        Pod trainer = new TrainerPodBuilder("i", Fixtures.signers()).build(run, new FederatedRunStatus(), shard, 1, 1);
        ClientShard other = Fixtures.shard(SHARD.substring(0, 252) + "d", "g");
        Pod otherTrainer = new TrainerPodBuilder("i", Fixtures.signers()).build(run, new FederatedRunStatus(), other, 1, 1);

        RoundPods round = new RoundPods(List.of(trainer, otherTrainer), 1);

        assertThat(round.trainerAttempts(SHARD)).containsExactly(trainer);
        assertThat(round.trainerAttempts(other.getMetadata().getName())).containsExactly(otherTrainer);
        assertThat(trainer.getMetadata().getLabels()).containsEntry(PodLabels.RUN, PodLabels.value(RUN))
                .containsEntry(PodLabels.SHARD, PodLabels.value(SHARD));
        assertThat(PodLabels.value(SHARD)).isNotEqualTo(PodLabels.value(other.getMetadata().getName())).hasSizeLessThanOrEqualTo(63);
        assertThat(PodLabels.value("short-name")).isEqualTo("short-name");
    }

    private static com.fasterxml.jackson.databind.JsonNode json(HasMetadata object) {
        return Serialization.jsonMapper().valueToTree(object);
    }
}
