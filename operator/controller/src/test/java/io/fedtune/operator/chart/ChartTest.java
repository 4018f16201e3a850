package io.fedtune.operator.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fedtune.operator.apiserver.OperatorAccess;
import io.fedtune.strictapi.ChartRole;
import io.fedtune.strictapi.RbacPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChartTest {
    private static final RenderedChart DEFAULTS = RenderedChart.render();

    @Test
    void lintsClean() {
        LintResult lint = new Helm(RenderedChart.chart()).lint().strict().call();

        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    @Test
    void rendersTheOperatorWithItsServiceAccountRbacAndMetricsService() {
        assertThat(DEFAULTS.kinds()).containsExactlyInAnyOrder(
                "ServiceAccount/fedtune-fedtune-operator", "ClusterRole/fedtune-fedtune-operator",
                "ClusterRoleBinding/fedtune-fedtune-operator", "Deployment/fedtune-fedtune-operator",
                "Service/fedtune-fedtune-operator-metrics");
        Deployment deployment = DEFAULTS.one(Deployment.class);
        assertThat(deployment.getSpec().getTemplate().getSpec().getServiceAccountName())
                .isEqualTo(DEFAULTS.one(ServiceAccount.class).getMetadata().getName());
        assertThat(operator(deployment).getImage()).isEqualTo("ghcr.io/fedtune/fedtune-operator:0.1.0-SNAPSHOT");
        assertThat(env(deployment, "QUARKUS_OPERATOR_SDK_NAMESPACES")).isEqualTo("JOSDK_ALL_NAMESPACES");
        assertThat(env(deployment, "FEDTUNE_TRAINER_IMAGE")).isEqualTo("ghcr.io/fedtune/fedtune-trainer:0.1.0-SNAPSHOT");
        assertThat(env(deployment, "JAVA_OPTS_APPEND")).contains("-Djava.util.logging.manager=org.jboss.logmanager.LogManager");
    }

    @Test
    void grantsNothingOnSecretsAndNoWildcards() {
        for (RenderedChart rendered : List.of(DEFAULTS, RenderedChart.render("watchNamespaces: [team-a]"))) {
            List<PolicyRule> rules = rendered.one(ClusterRole.class).getRules();

            assertThat(rules).isNotEmpty().allSatisfy(rule -> {
                assertThat(rule.getResources()).doesNotContain("*").noneMatch(r -> r.startsWith("secrets"));
                assertThat(rule.getVerbs()).doesNotContain("*");
                assertThat(rule.getApiGroups()).doesNotContain("*");
                assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
                assertThat(rule.getResourceNames()).isNullOrEmpty();
            });
        }
    }

    @Test
    void grantsWhatTheOperatorDoes() {
        List<PolicyRule> rules = DEFAULTS.one(ClusterRole.class).getRules();

        assertThat(verbs(rules, "fedtune.io", "federatedruns")).containsExactlyInAnyOrder("get", "list", "watch", "patch");
        assertThat(verbs(rules, "fedtune.io", "federatedruns/finalizers")).containsExactly("update");
        assertThat(verbs(rules, "fedtune.io", "clientshards")).containsExactlyInAnyOrder("get", "list", "watch");
        assertThat(verbs(rules, "fedtune.io", "federatedruns/status")).containsExactly("update");
        assertThat(verbs(rules, "fedtune.io", "clientshards/status")).containsExactly("patch");
        assertThat(verbs(rules, "", "pods")).containsExactlyInAnyOrder("create", "delete", "deletecollection", "list", "watch");
        assertThat(verbs(rules, "", "configmaps")).containsExactlyInAnyOrder("create", "delete", "deletecollection", "get");
        assertThat(verbs(rules, "", "events")).containsExactly("create");
    }

    /** Whatever the code does, the role must allow (the strict test API server enforces that), and nothing more. */
    @Test
    void grantsExactlyWhatTheOperatorsCodeUses() {
        RbacPolicy policy = ChartRole.render(RenderedChart.chart());

        assertThat(policy.user()).isEqualTo("system:serviceaccount:fedtune:fedtune-operator");
        assertThat(policy.granted()).as("no wildcards").isPresent();
        assertThat(policy.granted().orElseThrow()).containsExactlyInAnyOrderElementsOf(OperatorAccess.permissions());
        for (RenderedChart rendered : List.of(DEFAULTS, RenderedChart.render("watchNamespaces: [team-a]"))) {
            assertThat(new RbacPolicy("u", rendered.one(ClusterRole.class)).granted().orElseThrow())
                    .containsExactlyInAnyOrderElementsOf(OperatorAccess.permissions());
        }
    }

    @Test
    void runsTheOperatorNonRootOnAReadOnlyRootFilesystemWithoutCapabilities() {
        PodSpec pod = DEFAULTS.one(Deployment.class).getSpec().getTemplate().getSpec();
        Container operator = pod.getContainers().get(0);

        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(operator.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(operator.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(operator.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(operator.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(operator.getSecurityContext().getPrivileged()).isNotEqualTo(Boolean.TRUE);
        assertThat(operator.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
        assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
        assertThat(operator.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(operator.getResources().getLimits()).containsKey("memory");
    }

    @Test
    void probesTheQuarkusHealthEndpoints() {
        Container operator = operator(DEFAULTS.one(Deployment.class));

        assertThat(operator.getPorts()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("http");
            assertThat(p.getContainerPort()).isEqualTo(8080);
        });
        assertThat(operator.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/q/health/live");
        assertThat(operator.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
        assertThat(operator.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
        assertThat(operator.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
    }

    @Test
    void exposesMetricsToPrometheusOnTheOperatorPod() {
        Service service = DEFAULTS.one(Service.class);
        Deployment deployment = DEFAULTS.one(Deployment.class);

        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(8080);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
        });
        assertThat(service.getMetadata().getAnnotations()).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/path", "/q/metrics").containsEntry("prometheus.io/port", "8080");
        assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(service.getSpec().getSelector());
    }

    @Test
    void watchesOnlyTheListedNamespacesWithRoleBindingsThere() {
        RenderedChart rendered = RenderedChart.render("watchNamespaces: [team-a, team-b]");

        assertThat(rendered.all(ClusterRoleBinding.class)).isEmpty();
        assertThat(rendered.all(RoleBinding.class)).extracting(b -> b.getMetadata().getNamespace())
                .containsExactlyInAnyOrder("team-a", "team-b");
        assertThat(rendered.all(RoleBinding.class)).allSatisfy(b -> {
            assertThat(b.getRoleRef().getKind()).isEqualTo("ClusterRole");
            assertThat(b.getSubjects()).singleElement().satisfies(s -> assertThat(s.getNamespace()).isEqualTo(RenderedChart.NAMESPACE));
        });
        assertThat(env(rendered.one(Deployment.class), "QUARKUS_OPERATOR_SDK_NAMESPACES")).isEqualTo("team-a,team-b");
    }

    @Test
    void rendersOtherImagesAndPlacement() {
        RenderedChart rendered = RenderedChart.render("""
                image: {repository: registry.example.com/fedtune/operator, tag: "1.2.3"}
                trainer: {image: "registry.example.com/fedtune/trainer-cuda:1.2.3"}
                nodeSelector: {kubernetes.io/os: linux}
                priorityClassName: system-cluster-critical
                """);
        Deployment deployment = rendered.one(Deployment.class);

        assertThat(operator(deployment).getImage()).isEqualTo("registry.example.com/fedtune/operator:1.2.3");
        assertThat(env(deployment, "FEDTUNE_TRAINER_IMAGE")).isEqualTo("registry.example.com/fedtune/trainer-cuda:1.2.3");
        assertThat(deployment.getSpec().getTemplate().getSpec().getNodeSelector()).containsEntry("kubernetes.io/os", "linux");
        assertThat(deployment.getSpec().getTemplate().getSpec().getPriorityClassName()).isEqualTo("system-cluster-critical");
    }

    @Test
    void leavesMetricsOutWhenDisabledAndAddsAServiceMonitorOnRequest() {
        assertThat(RenderedChart.render("metrics: {enabled: false}").all(Service.class)).isEmpty();

        RenderedChart monitored = RenderedChart.render(
                "metrics: {serviceMonitor: {enabled: true, labels: {release: prometheus}}}");
        GenericKubernetesResource monitor = monitored.one(GenericKubernetesResource.class);
        assertThat(monitor.getKind()).isEqualTo("ServiceMonitor");
        assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
        assertThat(monitor.<String>get("spec", "endpoints", 0, "path")).isEqualTo("/q/metrics");
        assertThat(monitor.<String>get("spec", "endpoints", 0, "port"))
                .isEqualTo(monitored.one(Service.class).getSpec().getPorts().get(0).getName());
    }

    @Test
    void mountsEachStorageSignerReadOnlyAndNamesItInFedtuneSigners() {
        assertThat(env(DEFAULTS.one(Deployment.class), "FEDTUNE_SIGNERS")).isEqualTo("[]");

        RenderedChart rendered = RenderedChart.render("""
                storageSigners:
                  - {endpoint: "http://minio.storage:9000", secretName: signer-minio}
                  - {endpoint: "https://s3.eu-west-1.amazonaws.com", region: eu-west-1, secretName: signer-aws,
                     accessKeyIdKey: id, secretAccessKeyKey: key, sessionTokenKey: token}
                """);
        Deployment deployment = rendered.one(Deployment.class);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();

        assertThat(env(deployment, "FEDTUNE_SIGNERS")).isEqualTo("[{\"dir\":\"/etc/fedtune/signers/0\",\"endpoint\":\"http://minio.storage:9000\"},"
                + "{\"dir\":\"/etc/fedtune/signers/1\",\"endpoint\":\"https://s3.eu-west-1.amazonaws.com\",\"region\":\"eu-west-1\"}]");
        assertThat(operator(deployment).getVolumeMounts()).filteredOn(m -> m.getName().startsWith("signer-"))
                .extracting(m -> m.getName() + " " + m.getMountPath() + " " + m.getReadOnly())
                .containsExactly("signer-0 /etc/fedtune/signers/0 true", "signer-1 /etc/fedtune/signers/1 true");
        var minio = pod.getVolumes().stream().filter(v -> v.getName().equals("signer-0")).findFirst().orElseThrow().getSecret();
        assertThat(minio.getSecretName()).isEqualTo("signer-minio");
        assertThat(minio.getDefaultMode()).as("0440: the owner and the pod's fsGroup read it").isEqualTo(0440);
        assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(pod.getSecurityContext().getRunAsGroup());
        assertThat(minio.getItems()).extracting(i -> i.getKey() + "->" + i.getPath())
                .containsExactly("accessKeyId->access-key-id", "secretAccessKey->secret-access-key");
        var aws = pod.getVolumes().stream().filter(v -> v.getName().equals("signer-1")).findFirst().orElseThrow().getSecret();
        assertThat(aws.getItems()).extracting(i -> i.getKey() + "->" + i.getPath())
                .containsExactly("id->access-key-id", "key->secret-access-key", "token->session-token");
        assertThat(rendered.one(ClusterRole.class).getRules()).allSatisfy(rule ->
                assertThat(rule.getResources()).as("the signers are mounted, never read through the API")
                        .noneMatch(r -> r.startsWith("secrets")));
        assertThatThrownBy(() -> RenderedChart.render("storageSigners: [{endpoint: \"http://minio:9000/bucket\", secretName: s}]"))
                .as("an endpoint is scheme, host and port").hasMessageContaining("storageSigners");
        assertThatThrownBy(() -> RenderedChart.render("storageSigners: [{endpoint: \"http://minio:9000\"}]"))
                .as("a signer needs its Secret").hasMessageContaining("secretName");
    }

    @Test
    void valuesSchemaRefusesBadValues() {
        assertThatThrownBy(() -> RenderedChart.render("replicaCount: two"))
                .hasMessageContaining("replicaCount");
        assertThatThrownBy(() -> RenderedChart.render("replicaCount: 2"))
                .as("no leader election: at most one operator").hasMessageContaining("replicaCount");
        assertThatThrownBy(() -> RenderedChart.render("watchNamespaces: [Team_A]"))
                .hasMessageContaining("watchNamespaces");
        assertThatThrownBy(() -> RenderedChart.render("watchNamespace: [team-a]"))
                .as("a misspelt key is refused, not ignored").hasMessageContaining("watchNamespace");
    }

    private static Container operator(Deployment deployment) {
        return deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    private static String env(Deployment deployment, String name) {
        return operator(deployment).getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue)
                .findFirst().orElseThrow(() -> new AssertionError("no env " + name));
    }

    private static List<String> verbs(List<PolicyRule> rules, String group, String resource) {
        return rules.stream().filter(r -> r.getApiGroups().contains(group) && r.getResources().contains(resource))
                .flatMap(r -> r.getVerbs().stream()).toList();
    }
}
