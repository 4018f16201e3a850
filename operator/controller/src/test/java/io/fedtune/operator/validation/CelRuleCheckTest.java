package io.fedtune.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import java.util.List;
import org.junit.jupiter.api.Test;

class CelRuleCheckTest {
    private static final JSONSchemaProps SCHEMA = Serialization.unmarshal("""
            type: object
            properties:
              spec:
                type: object
                x-kubernetes-validations:
                  - rule: "has(self.names) && size(self.names) <= 3"
                    message: "spec.names: at most three, and set"
                  - rule: "self.names.exists(n, n == 'primary')"
                    message: "spec.names must include primary"
                  - rule: "self.names.exists_one(n, n.startsWith('p'))"
                    messageExpression: "'spec.names: exactly one name starting with p, not ' + string(size(self.names.filter(n, n.startsWith('p'))))"
                  - rule: "self.names.all(n, n.matches('^[a-z]+$'))"
                  - rule: "self.ratio < 1"
                    fieldPath: ".ratio"
                    message: "must be below 1"
                  - rule: "self.limits.all(k, k != 'forbidden')"
                    message: "spec.limits: no key may be forbidden"
                properties:
                  names:
                    type: array
                    items: {type: string}
                  ratio:
                    type: number
                  limits:
                    type: object
                    additionalProperties:
                      type: integer
                      x-kubernetes-validations:
                        - rule: "self >= 0"
                          message: "a limit must not be negative"
            """, JSONSchemaProps.class);

    private static final CelRuleCheck RULES = new CelRuleCheck("Example", SCHEMA);

    private static JsonNode spec(String json) {
        return Serialization.unmarshal("{\"spec\": " + json + "}", JsonNode.class);
    }

    @Test
    void passesWhenEveryRuleHolds() {
        assertThat(RULES.check(spec("{\"names\": [\"primary\", \"second\"], \"ratio\": 0, \"limits\": {\"a\": 1}}"), null, true))
                .isEmpty();
    }

    @Test
    void evaluatesTheKubernetesMacrosAndFunctions() {
        List<Violation> violations = RULES.check(
                spec("{\"names\": [\"Primary\", \"p1\", \"p2\", \"q\"], \"ratio\": 2, \"limits\": {\"forbidden\": -1}}"), null, true);

        assertThat(violations).extracting(Violation::message).containsExactlyInAnyOrder(
                "spec.names: at most three, and set",
                "spec.names must include primary",
                "spec.names: exactly one name starting with p, not 2",
                "spec: failed rule: self.names.all(n, n.matches('^[a-z]+$'))",
                "spec.ratio: must be below 1",
                "spec.limits: no key may be forbidden",
                "spec.limits[forbidden]: a limit must not be negative");
    }

    @Test
    void comparesAnIntegerWrittenInANumberFieldAsADouble() {
        assertThat(RULES.check(spec("{\"names\": [\"primary\"], \"ratio\": 1, \"limits\": {}}"), null, true))
                .extracting(Violation::field).containsExactly("spec.ratio");
    }

    @Test
    void refusesARuleThatNamesAFieldTheSchemaLacks() {
        JSONSchemaProps typo = Serialization.unmarshal("""
                type: object
                properties:
                  spec:
                    type: object
                    x-kubernetes-validations:
                      - rule: "self.rnak > 0"
                    properties:
                      rank: {type: integer}
                """, JSONSchemaProps.class);

        assertThatThrownBy(() -> new CelRuleCheck("Typo", typo))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not compile: self.rnak > 0");
    }

    @Test
    void compilesEveryRuleOfTheFedtuneCrds() {
        for (Class<? extends io.fabric8.kubernetes.api.model.HasMetadata> kind : List.of(FederatedRun.class, ClientShard.class)) {
            CrdSchema schema = CrdSchema.of(kind);
            JsonNode tree = Serialization.jsonMapper().valueToTree(schema.root());
            int declared = tree.findValues("x-kubernetes-validations").stream().mapToInt(JsonNode::size).sum();

            assertThat(new CelRuleCheck(schema.kind(), schema.root()).ruleCount()).as(kind.getSimpleName()).isEqualTo(declared);
        }
    }
}
