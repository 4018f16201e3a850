package io.fedtune.operator.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.CelType;
import dev.cel.common.types.SimpleType;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The x-kubernetes-validations rules of one kind, compiled once against types derived from the schema, and evaluated
 * on every node they sit on with {@code self} bound to that node (and {@code oldSelf} to the same node of the old
 * object for transition rules, which are skipped on create or where the old node is absent, as the API server does).
 */
final class CelRuleCheck {
    private final JSONSchemaProps root;
    private final Map<JSONSchemaProps, List<CelRule>> rulesBySchema = new IdentityHashMap<>();

    CelRuleCheck(String kind, JSONSchemaProps root) {
        this.root = root;
        SchemaCelTypes types = new SchemaCelTypes();
        compileAll(environment(types), types, root, kind, FieldPath.root());
    }

    /** The CEL environment rules are compiled in: standard macros, the strings extension, types from the schema. */
    static Cel environment(SchemaCelTypes types) {
        return CelFactory.standardCelBuilder()
                .setOptions(CelOptions.current().enableHeterogeneousNumericComparisons(true).build())
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .addCompilerLibraries(CelExtensions.strings())
                .addRuntimeLibraries(CelExtensions.strings())
                .setTypeProvider(types)
                .build();
    }

    /** The environment of the rules on one schema node: {@code self} and {@code oldSelf} typed as that node. */
    static Cel ruleEnvironment(Cel base, SchemaCelTypes types, JSONSchemaProps schema, String typeName) {
        CelType selfType = types.typeOf(schema, typeName);
        return base.toCelBuilder().addVar("self", selfType).addVar("oldSelf", selfType).build();
    }

    /** Rules found in the schema, for tests and diagnostics. */
    int ruleCount() {
        return rulesBySchema.values().stream().mapToInt(List::size).sum();
    }

    private void compileAll(Cel base, SchemaCelTypes types, JSONSchemaProps schema, String typeName, FieldPath path) {
        if (schema == null) {
            return;
        }
        List<ValidationRule> declared = schema.getXKubernetesValidations();
        if (declared != null && !declared.isEmpty()) {
            Cel cel = ruleEnvironment(base, types, schema, typeName);
            List<CelRule> compiled = new ArrayList<>();
            for (ValidationRule rule : declared) {
                compiled.add(compile(cel, rule, path));
            }
            rulesBySchema.put(schema, compiled);
        }
        if (schema.getProperties() != null) {
            schema.getProperties().forEach((name, child) -> compileAll(base, types, child, typeName + "." + name, path.field(name)));
        }
        if (schema.getItems() != null) {
            compileAll(base, types, schema.getItems().getSchema(), typeName + ".@items", path.index(0));
        }
        if (schema.getAdditionalProperties() != null) {
            compileAll(base, types, schema.getAdditionalProperties().getSchema(), typeName + ".@values", path.key("*"));
        }
    }

    private static CelRule compile(Cel cel, ValidationRule rule, FieldPath path) {
        CelAbstractSyntaxTree ast = checked(cel, rule.getRule(), path);
        if (!ast.getResultType().equals(SimpleType.BOOL) && !ast.getResultType().equals(SimpleType.DYN)) {
            throw new IllegalStateException("x-kubernetes-validations rule at " + path + " must be a bool expression: " + rule.getRule());
        }
        boolean transition = ast.getReferenceMap().values().stream().anyMatch(r -> r.name().equals("oldSelf"));
        CelRuntime.Program messageExpression = null;
        try {
            if (rule.getMessageExpression() != null && !rule.getMessageExpression().isBlank()) {
                messageExpression = cel.createProgram(checked(cel, rule.getMessageExpression(), path));
            }
            return new CelRule(rule.getRule(), rule.getMessage(), messageExpression, rule.getFieldPath(), transition, cel.createProgram(ast));
        } catch (CelEvaluationException e) {
            throw new IllegalStateException("x-kubernetes-validations rule at " + path + " cannot be planned: " + rule.getRule(), e);
        }
    }

    static CelAbstractSyntaxTree checked(Cel cel, String expression, FieldPath path) {
        CelValidationResult result = cel.compile(expression);
        try {
            return result.getAst();
        } catch (CelValidationException e) {
            throw new IllegalStateException("x-kubernetes-validations rule at " + path + " does not compile: " + expression + "\n"
                    + result.getErrorString(), e);
        }
    }

    /**
     * @param object       the defaulted new object
     * @param old          the defaulted old object, or null on create
     * @param reportErrors whether a rule that fails to evaluate is itself a violation; false when schema violations
     *                     already explain the bad data the rule tripped over
     */
    List<Violation> check(JsonNode object, JsonNode old, boolean reportErrors) {
        List<Violation> violations = new ArrayList<>();
        walk(root, object, old, FieldPath.root(), reportErrors, violations);
        return violations;
    }

    private void walk(JSONSchemaProps schema, JsonNode node, JsonNode oldNode, FieldPath path, boolean reportErrors,
            List<Violation> violations) {
        if (schema == null || node == null || node.isNull() || node.isMissingNode()) {
            return;
        }
        List<CelRule> rules = rulesBySchema.get(schema);
        if (rules != null) {
            evaluate(rules, schema, node, oldNode, path, reportErrors, violations);
        }
        if (node.isObject() && schema.getProperties() != null && !schema.getProperties().isEmpty()) {
            for (Map.Entry<String, JSONSchemaProps> property : schema.getProperties().entrySet()) {
                String name = property.getKey();
                walk(property.getValue(), node.get(name), oldNode == null ? null : oldNode.get(name), path.field(name), reportErrors, violations);
            }
        } else if (node.isObject() && schema.getAdditionalProperties() != null && schema.getAdditionalProperties().getSchema() != null) {
            Iterator<Map.Entry<String, JsonNode>> entries = node.fields();
            while (entries.hasNext()) {
                Map.Entry<String, JsonNode> entry = entries.next();
                walk(schema.getAdditionalProperties().getSchema(), entry.getValue(), oldNode == null ? null : oldNode.get(entry.getKey()),
                        path.key(entry.getKey()), reportErrors, violations);
            }
        } else if (node.isArray() && schema.getItems() != null && schema.getItems().getSchema() != null) {
            // Items of atomic lists have no identity across updates, so no oldSelf for them (as in the API server).
            for (int i = 0; i < node.size(); i++) {
                walk(schema.getItems().getSchema(), node.get(i), null, path.index(i), reportErrors, violations);
            }
        }
    }

    private static void evaluate(List<CelRule> rules, JSONSchemaProps schema, JsonNode node, JsonNode oldNode, FieldPath path,
            boolean reportErrors, List<Violation> violations) {
        Object self = CelValues.of(node, schema);
        Object oldSelf = oldNode == null || oldNode.isNull() ? null : CelValues.of(oldNode, schema);
        for (CelRule rule : rules) {
            if (rule.transition() && oldSelf == null) {
                continue;
            }
            Map<String, Object> activation = rule.transition() ? Map.of("self", self, "oldSelf", oldSelf) : Map.of("self", self);
            FieldPath at = rule.fieldPath() == null || rule.fieldPath().isBlank() ? path : path.relative(rule.fieldPath());
            try {
                if (!Boolean.TRUE.equals(rule.program().eval(activation))) {
                    violations.add(new Violation(at.toString(), withPath(at, message(rule, activation))));
                }
            } catch (CelEvaluationException e) {
                if (reportErrors) {
                    violations.add(new Violation(at.toString(), at + ": rule " + rule.rule() + " could not be evaluated ("
                            + e.getMessage() + "); check the field's type and that the fields it reads are set"));
                }
            }
        }
    }

    private static String message(CelRule rule, Map<String, Object> activation) {
        if (rule.message() != null && !rule.message().isBlank()) {
            return rule.message();
        }
        if (rule.messageExpression() != null) {
            try {
                Object text = rule.messageExpression().eval(activation);
                if (text instanceof String s && !s.isBlank()) {
                    return s;
                }
            } catch (CelEvaluationException e) {
                // The API server falls back to the rule's own wording, so do we.
            }
        }
        return "failed rule: " + rule.rule();
    }

    /** Rule messages usually name their field already; the path leads only where they do not. */
    private static String withPath(FieldPath at, String message) {
        return message.startsWith(at.toString()) ? message : at + ": " + message;
    }
}
