package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fedtune.api.v1alpha1.FederatedRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Local mode's API server authorizes the operator with the chart's ClusterRole and validates what anyone writes. */
class StrictApiServerTest {
    private static final String USER = "system:serviceaccount:fedtune:fedtune-operator";
    private EmbeddedApiServer api;
    private KubernetesClient operator;

    @BeforeEach
    void start() throws Exception {
        api = EmbeddedApiServer.start(RepoLayout.find().crds(), RepoLayout.find().chart(), OperatorProcess.freePort());
        operator = new KubernetesClientBuilder().withConfig(new ConfigBuilder(api.client().getConfiguration())
                .withOauthToken(EmbeddedApiServer.OPERATOR_TOKEN).build()).build();
    }

    @AfterEach
    void stop() {
        operator.close();
        api.close();
    }

    @Test
    void theOperatorGetsWhatTheChartGrantsAndNothingMore() {
        api.client().resource(new SecretBuilder().withMetadata(new ObjectMetaBuilder().withName("run-s3").withNamespace("team").build())
                .addToStringData("accessKeyId", "a").build()).create();

        assertThat(operator.resources(FederatedRun.class).inNamespace("team").list().getItems()).isEmpty();
        assertThatThrownBy(() -> operator.secrets().inNamespace("team").withName("run-s3").get())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getStatus().getMessage()).isEqualTo("secrets \"run-s3\" is forbidden: User \"" + USER
                            + "\" cannot get resource \"secrets\" in API group \"\" in the namespace \"team\"");
                });
        assertThat(api.client().secrets().inNamespace("team").withName("run-s3").get()).isNotNull();
        assertThat(api.refusals()).singleElement().asString().contains("GET /api/v1/namespaces/team/secrets/run-s3 -> 403");
    }

    @Test
    void objectsAreValidatedAsTheApiServerValidatesThem() {
        var pod = new PodBuilder().withNewMetadata().withName("p").withNamespace("team").addToLabels("fedtune.io/run", "r".repeat(64))
                .endMetadata().withNewSpec().addNewContainer().withName("trainer").withImage("i").endContainer().endSpec().build();

        assertThatThrownBy(() -> api.client().resource(pod).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(422);
                    assertThat(e.getStatus().getMessage()).isEqualTo("Pod \"p\" is invalid: metadata.labels: Invalid value: \""
                            + "r".repeat(64) + "\": must be no more than 63 characters");
                });
    }
}
