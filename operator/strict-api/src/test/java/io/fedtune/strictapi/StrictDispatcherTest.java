package io.fedtune.strictapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StrictDispatcherTest {
    private static final String USER = "system:serviceaccount:fedtune:fedtune-operator";
    private static final ResourceDefinitionContext RUNS = new ResourceDefinitionContext.Builder().withGroup("fedtune.io")
            .withVersion("v1alpha1").withKind("FederatedRun").withPlural("federatedruns").withNamespaced(true).build();

    private KubernetesMockServer server;
    private StrictDispatcher strict;
    private KubernetesClient admin;
    private KubernetesClient operator;

    @BeforeEach
    void start() {
        ClusterRole role = new ClusterRoleBuilder().withNewMetadata().withName("fedtune-operator").endMetadata()
                .addNewRule().withApiGroups("fedtune.io").withResources("federatedruns").withVerbs("get", "list", "watch").endRule()
                .addNewRule().withApiGroups("").withResources("pods", "configmaps").withVerbs("create", "delete", "list").endRule()
                .build();
        strict = new StrictDispatcher(new KubernetesCrudDispatcher(List.of()), new RbacPolicy(USER, role));
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), strict, false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        admin = server.createClient();
        operator = new KubernetesClientBuilder().withConfig(new ConfigBuilder(admin.getConfiguration())
                .withOauthToken(StrictDispatcher.OPERATOR_TOKEN).build()).build();
    }

    @AfterEach
    void stop() {
        operator.close();
        admin.close();
        server.destroy();
    }

    @Test
    void refusesWhatTheRoleDoesNotGrantWithTheApiServersWords() {
        admin.genericKubernetesResources(RUNS).inNamespace("ns").resource(run("x")).create();

        assertThat(operator.genericKubernetesResources(RUNS).inNamespace("ns").withName("x").get()).isNotNull();
        assertThatThrownBy(() -> operator.genericKubernetesResources(RUNS).inNamespace("ns").withName("x")
                .edit(r -> {
                    r.getMetadata().setFinalizers(List.of("federatedruns.fedtune.io/finalizer"));
                    return r;
                }))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getStatus().getReason()).isEqualTo("Forbidden");
                    assertThat(e.getStatus().getMessage()).isEqualTo("federatedruns.fedtune.io \"x\" is forbidden: User \"" + USER
                            + "\" cannot patch resource \"federatedruns\" in API group \"fedtune.io\" in the namespace \"ns\"");
                });
        assertThat(strict.refusals()).singleElement().asString().startsWith("PATCH /apis/fedtune.io/v1alpha1/namespaces/ns/federatedruns/x -> 403");
        assertThat(strict.used()).extracting(Permission::toString).containsExactly("get federatedruns.fedtune.io");
    }

    @Test
    void aDeleteByLabelIsDeletecollection() {
        assertThatThrownBy(() -> operator.pods().inNamespace("ns").withLabel("fedtune.io/run", "x").delete())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getStatus().getMessage())
                        .isEqualTo("pods is forbidden: User \"" + USER + "\" cannot deletecollection resource \"pods\" in API group \"\" in the namespace \"ns\""));
        admin.pods().inNamespace("ns").withLabel("fedtune.io/run", "x").delete();
    }

    @Test
    void blockOwnerDeletionNeedsUpdateOnTheOwnersFinalizers() {
        Pod pod = pod("p", Map.of("fedtune.io/run", "x"));
        pod.getMetadata().setOwnerReferences(List.of(new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
                .withApiVersion("fedtune.io/v1alpha1").withKind("FederatedRun").withName("x").withUid("u-1")
                .withController(true).withBlockOwnerDeletion(true).build()));

        assertThatThrownBy(() -> operator.resource(pod).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(403);
                    assertThat(e.getStatus().getMessage()).isEqualTo("pods \"p\" is forbidden: cannot set blockOwnerDeletion if an "
                            + "ownerReference refers to a resource you can't set finalizers on: User \"" + USER + "\" cannot update "
                            + "resource \"federatedruns/finalizers\" in API group \"fedtune.io\" in the namespace \"ns\", <nil>");
                });
        pod.getMetadata().getOwnerReferences().get(0).setBlockOwnerDeletion(false);
        operator.resource(pod).create();
    }

    @Test
    void refusesInvalidObjectsWithTheFieldNamed() {
        String long63plus = "r".repeat(100);
        assertThatThrownBy(() -> admin.resource(pod("p", Map.of("fedtune.io/run", long63plus))).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(422);
                    assertThat(e.getStatus().getReason()).isEqualTo("Invalid");
                    assertThat(e.getStatus().getMessage()).isEqualTo("Pod \"p\" is invalid: metadata.labels: Invalid value: \""
                            + long63plus + "\": must be no more than 63 characters");
                    assertThat(e.getStatus().getDetails().getCauses()).singleElement()
                            .satisfies(c -> assertThat(c.getField()).isEqualTo("metadata.labels"));
                });

        Pod bad = pod("p", Map.of());
        bad.getSpec().getContainers().get(0).setName("Trainer_1");
        bad.getSpec().getContainers().get(0).setTerminationMessagePolicy("Always");
        bad.getSpec().getContainers().get(0).getEnv().add(new io.fabric8.kubernetes.api.model.EnvVar("1BAD", "x", null));
        bad.getSpec().getContainers().get(0).setResources(new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
                .addToRequests("cpu", new io.fabric8.kubernetes.api.model.Quantity("2")).addToLimits("cpu", new io.fabric8.kubernetes.api.model.Quantity("1")).build());
        bad.getSpec().setRestartPolicy("Sometimes");
        assertThatThrownBy(() -> admin.resource(bad).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getStatus().getDetails().getCauses())
                        .extracting(c -> c.getField()).containsExactlyInAnyOrder("spec.containers[0].name",
                                "spec.containers[0].terminationMessagePolicy", "spec.containers[0].env[0].name",
                                "spec.containers[0].resources.requests", "spec.restartPolicy"));

        assertThatThrownBy(() -> admin.resource(new ConfigMapBuilder().withNewMetadata().withName("big").withNamespace("ns").endMetadata()
                .addToData("task.json", "x".repeat(1024 * 1024 + 1)).build()).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getStatus().getMessage())
                        .isEqualTo("ConfigMap \"big\" is invalid: []: Too long: must have at most 1048576 bytes"));

        assertThatThrownBy(() -> admin.genericKubernetesResources(RUNS).inNamespace("ns").resource(run("a".repeat(254))).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getStatus().getMessage())
                        .startsWith("FederatedRun.fedtune.io \"" + "a".repeat(254) + "\" is invalid: metadata.name: Invalid value:")
                        .endsWith("must be no more than 253 characters"));
    }

    @Test
    void refusesInvalidLabelSelectorsAndQuantities() {
        assertThatThrownBy(() -> admin.pods().inNamespace("ns").withLabel("fedtune.io/run", "r".repeat(64)).list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(400);
                    assertThat(e.getStatus().getMessage()).isEqualTo("unable to parse requirement: values[0][fedtune.io/run]: "
                            + "Invalid value: \"" + "r".repeat(64) + "\": must be no more than 63 characters");
                });
        assertThat(admin.pods().inNamespace("ns").withLabel("fedtune.io/run", "r".repeat(63)).list().getItems()).isEmpty();

        Pod pod = pod("q", Map.of());
        pod.getSpec().getContainers().get(0).setResources(new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
                .addToLimits("nvidia.com/gpu", new io.fabric8.kubernetes.api.model.Quantity("one")).build());
        assertThatThrownBy(() -> admin.resource(pod).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getStatus().getMessage())
                        .isEqualTo("Pod in version \"v1\" cannot be handled as a Pod: " + ResourceQuantity.MSG));
    }

    @Test
    void validatesWhatAPatchWouldStore() {
        admin.resource(pod("p", Map.of("a", "b"))).create();

        assertThatThrownBy(() -> admin.pods().inNamespace("ns").withName("p").edit(p -> {
            p.getMetadata().getLabels().put("a", "not valid!");
            return p;
        })).isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422));
        admin.pods().inNamespace("ns").withName("p").edit(p -> {
            p.getMetadata().getLabels().put("a", "valid");
            return p;
        });
        assertThat(admin.pods().inNamespace("ns").withName("p").get().getMetadata().getLabels()).containsEntry("a", "valid");
    }

    @Test
    void resolvesRequestsAsKubeApiserverDoes() {
        assertThat(RequestInfo.of("GET", "/api/v1/namespaces/ns/pods?labelSelector=a%3Db&watch=true").permission())
                .hasToString("watch pods");
        assertThat(RequestInfo.of("GET", "/api/v1/namespaces/ns/pods?labelSelector=a%3Db").verb()).isEqualTo("list");
        assertThat(RequestInfo.of("GET", "/api/v1/watch/namespaces/ns/pods").verb()).isEqualTo("watch");
        assertThat(RequestInfo.of("GET", "/api/v1/pods").namespace()).isEmpty();
        assertThat(RequestInfo.of("PUT", "/apis/fedtune.io/v1alpha1/namespaces/ns/federatedruns/x/status").permission())
                .hasToString("update federatedruns.fedtune.io/status");
        assertThat(RequestInfo.of("DELETE", "/api/v1/namespaces/ns/configmaps?labelSelector=x").verb()).isEqualTo("deletecollection");
        assertThat(RequestInfo.of("DELETE", "/api/v1/namespaces/ns").permission()).hasToString("delete namespaces");
        assertThat(RequestInfo.of("GET", "/apis/fedtune.io/v1alpha1").resourceRequest()).isFalse();
        assertThat(RequestInfo.of("GET", "/version").resourceRequest()).isFalse();
        assertThat(Permission.parse("update federatedruns.fedtune.io/finalizers"))
                .isEqualTo(new Permission("update", "fedtune.io", "federatedruns/finalizers"));
        assertThat(Permission.parse("create events")).isEqualTo(new Permission("create", "", "events"));
    }

    private static GenericKubernetesResource run(String name) {
        return new GenericKubernetesResourceBuilder().withApiVersion("fedtune.io/v1alpha1").withKind("FederatedRun")
                .withNewMetadata().withName(name).withNamespace("ns").endMetadata().build();
    }

    private static Pod pod(String name, Map<String, String> labels) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("ns").withLabels(new HashMap<>(labels)).endMetadata()
                .withNewSpec().withRestartPolicy("Never").addNewContainer().withName("trainer").withImage("trainer:1")
                .withTerminationMessagePolicy("FallbackToLogsOnError").withEnv(new java.util.ArrayList<>()).endContainer().endSpec().build();
    }
}
