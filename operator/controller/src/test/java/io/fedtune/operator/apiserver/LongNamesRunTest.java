package io.fedtune.operator.apiserver;

import static io.fedtune.operator.Fixtures.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.operator.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Names may be 253 characters long (DNS subdomains), label values at most 63: a run and shards of the longest names
 * go through a round and are deleted, on an API server that refuses invalid labels, selectors and names.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = StrictApiServer.class)
class LongNamesRunTest {
    private static final String RUN = "long-" + "r".repeat(248);
    private static final String SHARD_A = "long-a-" + "s".repeat(246);
    private static final String SHARD_B = "long-b-" + "s".repeat(246);

    @Inject
    @Admin
    KubernetesClient client;

    @Test
    void aRunAndShardsOf253CharacterNamesTrainAndAreDeleted() {
        assertThat(RUN).hasSize(253);
        assertThat(SHARD_A).hasSize(253);
        Fixtures.kubelet(client);
        Fixtures.shards(client, "long", SHARD_A, SHARD_B);
        client.resource(Fixtures.run(RUN, "long", 1)).create();

        Fixtures.awaitCondition(client, RUN, ConditionType.SUCCEEDED, "True", "RoundsCompleted");
        FederatedRun run = Fixtures.get(client, RUN);
        assertThat(run.getStatus().history).singleElement().satisfies(h -> assertThat(h.participants).containsExactly(SHARD_A, SHARD_B));
        assertThat(Fixtures.eventReasons(client, RUN)).contains("RoundStarted", "RunSucceeded");

        client.resources(FederatedRun.class).inNamespace(NAMESPACE).withName(RUN).delete();
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.get(client, RUN) == null && Fixtures.pods(client, RUN).isEmpty());
    }
}
