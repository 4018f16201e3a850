package io.fedtune.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cel.bundle.Cel;
import dev.cel.common.CelAbstractSyntaxTree;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Calibration: per-call estimates that kube-apiserver computes for the same schema and rule, taken from
 * apiextensions-apiserver's pkg/apiserver/schema/cel/compilation_test.go (TestCostEstimation, v0.29.0, unchanged at
 * the time of writing on master), each with and without the size limit set.
 */
class CelCostEstimatorTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static long perCall(String schemaYaml, String rule) {
        JSONSchemaProps schema;
        try {
            schema = YAML.readValue(schemaYaml, JSONSchemaProps.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SchemaCelTypes types = new SchemaCelTypes();
        Cel cel = CelRuleCheck.ruleEnvironment(CelRuleCheck.environment(types), types, schema, "Test");
        CelAbstractSyntaxTree ast = CelRuleCheck.checked(cel, rule, FieldPath.root());
        return CelCostEstimator.estimate(ast, schema, "").cost();
    }

    private static String array(String itemType, String limit) {
        return "{type: array, " + limit + " items: " + itemType + "}";
    }

    private static String map(String valueType, String limit) {
        return "{type: object, " + limit + " additionalProperties: " + valueType + "}";
    }

    private static final String OBJECT = "{type: object, required: [required], properties: {required: {type: string}, optional: {type: string}}}";

    static Stream<Arguments> kubernetesEstimates() {
        return Stream.of(
                Arguments.of("number array with all", array("{type: number}", ""), "self.all(x, true)", 4718591L),
                Arguments.of("number array with all, maxItems 10", array("{type: number}", "maxItems: 10,"), "self.all(x, true)", 32L),
                Arguments.of("string array with all", array("{type: string}", ""), "self.all(x, true)", 3145727L),
                Arguments.of("boolean array with all", array("{type: boolean}", ""), "self.all(x, true)", 1887437L),
                Arguments.of("array of objects with all", array(OBJECT, ""), "self.all(x, true)", 555128L),
                Arguments.of("array of objects with all, maxItems 50", array(OBJECT, "maxItems: 50,"), "self.all(x, true)", 152L),
                Arguments.of("map of numbers with all", map("{type: number}", ""), "self.all(x, true)", 1348169L),
                Arguments.of("map of strings with all", map("{type: string}", ""), "self.all(x, true)", 1179647L),
                Arguments.of("map of strings with value length", map("{type: string}", ""), "self.all(x, x.contains(self[x]))", 2752507L),
                Arguments.of("string with contains", "{type: string}", "self.contains('test')", 314574L),
                Arguments.of("string with contains, maxLength 10", "{type: string, maxLength: 10}", "self.contains('test')", 5L),
                Arguments.of("string with startsWith", "{type: string}", "self.startsWith('test')", 2L),
                Arguments.of("concat string", "{type: string}", "size(self + \"hello\") > size(\"hello\")", 314578L),
                Arguments.of("concat string, maxLength 4", "{type: string, maxLength: 4}", "size(self + \"hello\") > size(\"hello\")", 7L),
                Arguments.of("index of array with strings", array("{type: string}", "maxItems: 8,"), "self[1] == self[1]", 314577L),
                Arguments.of("O(n^2) loop, maxItems 10", array("{type: number}", "maxItems: 10,"), "self.all(x, self.all(y, true))", 352L),
                Arguments.of("O(n^3) loop, maxItems 10", array("{type: number}", "maxItems: 10,"),
                        "self.all(x, self.all(y, self.all(z, true)))", 3552L),
                Arguments.of("regex matches simple", "{type: string}", "self.matches(\"x\")", 314574L),
                Arguments.of("regex matches simple, maxLength 50", "{type: string, maxLength: 50}", "self.matches(\"x\")", 22L),
                Arguments.of("set string maxLength to zero", "{type: string, maxLength: 0}", "self == \"x\"", 1L),
                Arguments.of("string equality unbounded", "{type: string}", "self == \"x\"", 2L),
                Arguments.of("number array all with comparison", array("{type: number}", ""), "self.all(x, x == 0.0)", 6291454L),
                Arguments.of("int-or-string array with all", array("{x-kubernetes-int-or-string: true}", ""), "self.all(x, true)", 4718591L),
                Arguments.of("array of number maps with all", array(map("{type: number}", ""), ""), "self.all(x, x.y == 25.2)", 6291452L),
                Arguments.of("index of array of number maps", array(map("{type: number}", ""), ""), "self[0].x > 2.0", 4L),
                Arguments.of("enum sized by its longest value", "{type: string, enum: [A, B, C, LongValue]}", "self.contains('A')", 2L),
                Arguments.of("enum with maxLength 1000", "{type: string, maxLength: 1000, enum: [A, B, C, LongValue]}",
                        "self.contains('A')", 401L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kubernetesEstimates")
    void matchesTheApiServersEstimate(String name, String schema, String rule, long expected) {
        assertThat(perCall(schema, rule)).isEqualTo(expected);
    }

    @Test
    void theOldDatasetsRuleIsTwiceThePerRuleLimit() {
        String datasets = array("{type: object, required: [name, uri], properties: {name: {type: string}, uri: {type: string}}}",
                "maxItems: 8,");
        long cost = perCall(datasets, "self.all(d, self.exists_one(e, e.name == d.name))");
        // 8 x 8 comparisons of two request-sized strings: ceil(3,145,726 x 0.1) each, plus loop overheads
        assertThat(cost).isEqualTo(20_133_106L);
        assertThat(CrdAdmission.factor(cost, CrdAdmission.PER_RULE_COST_LIMIT)).isEqualTo("2.0x");
    }

    @Test
    void aDurationOfAStringCostsOneAsInCelGo() {
        String durations = "{type: object, properties: {a: {type: string}, b: {type: string}}}";
        // per side: self (1), the field (1), the conversion (1); then the comparison (1)
        assertThat(perCall(durations, "duration(self.a) <= duration(self.b)")).isEqualTo(7L);
    }

    @Test
    void refusesToGuessAboutFunctionsItDoesNotModel() {
        assertThatThrownBy(() -> perCall("{type: string}", "self.lowerAscii() == 'a'"))
                .isInstanceOf(CelCostEstimator.Unsupported.class)
                .hasMessageContaining("unsupported expression for cost estimation")
                .hasMessageContaining("lowerAscii");
    }
}
