package io.fedtune.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The generated CRDs pass what kube-apiserver checks when they are applied, CEL cost estimates included. */
class CrdAdmissionTest {

    static List<Path> generatedCrds() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("crds"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("crds/ above the working directory").isNotNull();
        List<Path> files = new ArrayList<>();
        for (Path crds : List.of(dir.resolve("crds"), dir.resolve("charts/fedtune-operator/crds"))) {
            try (Stream<Path> list = Files.list(crds)) {
                list.filter(f -> f.toString().endsWith(".yaml")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    @Test
    void everyGeneratedCrdIsAdmitted() throws IOException {
        List<Path> files = generatedCrds();
        assertThat(files).hasSizeGreaterThanOrEqualTo(4);
        List<String> refusals = new ArrayList<>();
        for (Path file : files) {
            CrdAdmission.Result result = CrdAdmission.check(CrdAdmission.read(file));
            result.rules().forEach(r -> System.out.println(file.getFileName() + ": " + r.describe()));
            result.refusals().forEach(v -> refusals.add(file + ": " + v.message()));
        }
        assertThat(refusals).as("the API server would refuse these CRDs:%n%s", String.join("\n", refusals)).isEmpty();
    }

    @Test
    void everyRuleOfTheFederatedRunCrdIsEstimated() throws IOException {
        Path file = generatedCrds().stream().filter(f -> f.getFileName().toString().startsWith("federatedruns")).findFirst().orElseThrow();
        CrdAdmission.Result result = CrdAdmission.check(CrdAdmission.read(file));
        // fifteen rules on spec (the one-GPU rule on spec.trainer and spec.aggregator, the metric and maxNewTokens rules
        // on each eval set), one on status; none skipped
        assertThat(result.rules()).hasSize(16);
        assertThat(result.rules()).extracting(RuleCost::path)
                .contains("spec.evaluation.datasets", "spec.lora.targetModules", "status.startedWith.lora.targetModules",
                        "spec.trainer.resources", "spec.aggregator.resources", "spec.storage", "spec.participation");
        // an eval set's metric of its task, maxNewTokens for Generation: enum literals, cheap on each of the 8 sets
        assertThat(result.rules()).filteredOn(r -> r.path().equals("spec.evaluation.datasets[]")).hasSize(2)
                .allSatisfy(r -> assertThat(r.cost()).isLessThan(300));
        // storageRetryTimeout <= roundTimeout: two duration() conversions, cheap whatever the strings' length
        assertThat(result.rules()).filteredOn(r -> r.path().equals("spec.participation")).singleElement()
                .satisfies(r -> assertThat(r.cost()).isLessThan(20));
        // the GPU rule compares quantities with one-character literals: cheap whatever their (unbounded) length
        assertThat(result.rules()).filteredOn(r -> r.path().endsWith(".resources")).allSatisfy(r -> assertThat(r.cost()).isLessThan(100));
    }

    @Test
    void theChartStatesTheOldestKubernetesTheCheckModels() throws IOException {
        Path chart = generatedCrds().get(0).getParent().getParent().resolve("charts/fedtune-operator/Chart.yaml");
        assertThat(Files.readString(chart)).containsPattern("(?m)^kubeVersion: \">=1\\.29\\.0-0\"$");
    }

    @Test
    void beforeKubernetes129TheTargetModulesRuleWouldBeOverItsLimit() throws IOException {
        // 1.25-1.28 size an enum string like any unbounded one; the rule reads no other field whose costing differs there
        CustomResourceDefinition crd = CrdAdmission.read(generatedCrds().stream()
                .filter(f -> f.getFileName().toString().startsWith("federatedruns")).findFirst().orElseThrow());
        crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec").getProperties().get("lora")
                .getProperties().get("targetModules").getItems().getSchema().setEnum(null);
        RuleCost rule = CrdAdmission.check(crd).rules().stream().filter(r -> r.path().equals("spec.lora.targetModules"))
                .findFirst().orElseThrow();
        // 7 x 7 comparisons of request-sized strings
        assertThat(rule.cost()).isEqualTo(15_414_317L);
        assertThat(rule.overRuleLimit()).isTrue();
    }

    @Test
    void refusesAnUnboundedStringComparedInsideExistsOneOfAnUnboundedList() {
        CustomResourceDefinition crd = crd("""
                items:
                  type: array
                  x-kubernetes-validations:
                    - rule: "self.all(d, self.exists_one(e, e.name == d.name))"
                      message: "names must be unique"
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: {type: string}
                """);
        CrdAdmission.Result result = CrdAdmission.check(crd);
        assertThat(result.admitted()).isFalse();
        assertThat(result.rules()).singleElement().satisfies(r -> {
            assertThat(r.path()).isEqualTo("spec.items");
            assertThat(r.cost()).isGreaterThan(100 * CrdAdmission.PER_RULE_COST_LIMIT);
        });
        // refused for the rule, and for the schema's total that the one rule blows too
        assertThat(result.refusals()).hasSize(2).anySatisfy(v -> assertThat(v.message())
                .contains("spec.items x-kubernetes-validations[0]: estimated rule cost ")
                .contains("exceeds the per-rule limit 10,000,000 by a factor of more than 100x")
                .contains("self.all(d, self.exists_one(e, e.name == d.name))")
                .contains("fix: add maxItems to spec.items, add maxLength to spec.items[].name"));
    }

    @Test
    void admitsTheSameRuleOnceTheListAndTheNameAreBounded() {
        CustomResourceDefinition crd = crd("""
                items:
                  type: array
                  maxItems: 8
                  x-kubernetes-validations:
                    - rule: "self.all(d, self.exists_one(e, e.name == d.name))"
                      message: "names must be unique"
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: {type: string, maxLength: 63}
                """);
        CrdAdmission.Result result = CrdAdmission.check(crd);
        assertThat(result.refusals()).isEmpty();
        // 8 x 8 comparisons of at most 63 x 4 bytes: ceil(25.2) each, plus loop overheads
        assertThat(result.rules()).singleElement().extracting(RuleCost::cost).isEqualTo(2098L);
    }

    @Test
    void multipliesARuleInsideListItemsByTheListsCardinality() {
        String group = """
                groups:
                  type: array
                  %s
                  items:
                    type: object
                    x-kubernetes-validations:
                      - rule: "self.members.exists_one(m, m == self.owner)"
                        message: "the owner must be a member once"
                    properties:
                      owner: {type: string, maxLength: 10}
                      members:
                        type: array
                        maxItems: 10
                        items: {type: string, maxLength: 10}
                """;
        CrdAdmission.Result unbounded = CrdAdmission.check(crd(group.formatted("")));
        RuleCost rule = unbounded.rules().get(0);
        // an item is at least {}: with a comma, 3 bytes; a request holds 3 MiB / 3 of them
        assertThat(rule.cardinality()).isEqualTo(3L * 1024 * 1024 / 3);
        assertThat(rule.cost()).isEqualTo(rule.perCall() * rule.cardinality());
        assertThat(unbounded.refusals()).singleElement().satisfies(v -> assertThat(v.message())
                .contains("spec.groups[] x-kubernetes-validations[0]").contains("add maxItems (or maxProperties) to spec.groups"));

        CrdAdmission.Result bounded = CrdAdmission.check(crd(group.formatted("maxItems: 100")));
        assertThat(bounded.rules().get(0).cardinality()).isEqualTo(100L);
        assertThat(bounded.refusals()).isEmpty();
    }

    @Test
    void refusesTheWholeSchemaWhenTheRulesTogetherAreOverTheCrdLimit() {
        String rule = """
                    - rule: "self.all(d, self.exists_one(e, e.name == d.name))"
                      message: "names must be unique %d"
                """;
        String rules = Stream.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13).map(rule::formatted).collect(Collectors.joining());
        CrdAdmission.Result result = CrdAdmission.check(crd("""
                items:
                  type: array
                  maxItems: 5
                  x-kubernetes-validations:
                %s
                  items:
                    type: object
                    properties:
                      name: {type: string}
                """.formatted(rules)));
        // each rule is under its own limit (5 x 5 comparisons of request-sized strings: 0.8x), thirteen together are not
        assertThat(result.rules()).allSatisfy(r -> assertThat(r.overRuleLimit()).isFalse());
        assertThat(result.refusals()).singleElement().satisfies(v -> assertThat(v.message())
                .contains("estimated rule cost total").contains("exceeds the limit 100,000,000 for the whole schema"));
    }

    @Test
    void refusesANonStructuralSchema() {
        CrdAdmission.Result result = CrdAdmission.check(crd("""
                untyped:
                  description: no type
                tags:
                  type: array
                """));
        assertThat(result.refusals()).extracting(Violation::message).containsExactlyInAnyOrder(
                "spec.untyped: type must not be empty (structural schema)",
                "spec.tags: an array must have one items schema");
    }

    @Test
    void refusesOldSelfInsideTheItemsOfAnAtomicList() {
        CrdAdmission.Result result = CrdAdmission.check(crd("""
                items:
                  type: array
                  maxItems: 4
                  items:
                    type: object
                    x-kubernetes-validations:
                      - rule: "self == oldSelf"
                        message: "immutable"
                    properties:
                      name: {type: string, maxLength: 8}
                """));
        assertThat(result.refusals()).extracting(Violation::message)
                .anySatisfy(m -> assertThat(m).contains("spec.items[] x-kubernetes-validations[0]: oldSelf cannot be used"));
    }

    @Test
    void refusesARuleItCannotEstimateInsteadOfLettingItThrough() {
        CrdAdmission.Result result = CrdAdmission.check(crd("""
                name:
                  type: string
                  maxLength: 8
                  x-kubernetes-validations:
                    - rule: "self.lowerAscii() == self"
                      message: "lower case"
                """));
        assertThat(result.refusals()).singleElement().satisfies(v -> assertThat(v.message())
                .contains("unsupported expression for cost estimation").contains("lowerAscii"));
    }

    /** A one-version CRD whose spec has the given properties (YAML, indented as spec's properties). */
    private static CustomResourceDefinition crd(String specProperties) {
        String indented = specProperties.lines().map(l -> "                    " + l).collect(Collectors.joining("\n"));
        return Serialization.unmarshal("""
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: examples.test.fedtune.io
                spec:
                  group: test.fedtune.io
                  names: {kind: Example, plural: examples, singular: example}
                  scope: Namespaced
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    schema:
                      openAPIV3Schema:
                        type: object
                        properties:
                          spec:
                            type: object
                            properties:
                """ + indented + "\n", CustomResourceDefinition.class);
    }
}
