package io.fedtune.operator.validation;

import dev.cel.bundle.Cel;
import dev.cel.common.CelAbstractSyntaxTree;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What kube-apiserver (1.29 and later) checks when a CRD is created, short of running one: each version's schema
 * must be structural ({@link StructuralSchemaRules}), its CEL rules must compile against the schema, and the static
 * cost estimate of every rule times the number of times it can run per object must stay within
 * {@link #PER_RULE_COST_LIMIT}, and all of a version's rules together within {@link #PER_CRD_COST_LIMIT}
 * (apiextensions-apiserver's validation.go, {@code StaticEstimatedCostLimit} and {@code StaticEstimatedCRDCostLimit}).
 */
public final class CrdAdmission {
    /** The API server's limit on one rule's estimated cost, cardinality included. */
    public static final long PER_RULE_COST_LIMIT = 10_000_000L;
    /** The API server's limit on the estimated cost of all rules of one version's schema. */
    public static final long PER_CRD_COST_LIMIT = 100_000_000L;

    /**
     * @param crd                 the CRD's name
     * @param rules               every rule and messageExpression with its estimate, in schema order
     * @param totalCostByVersion  the summed estimate of each version's rules
     * @param refusals            what the API server would refuse; empty when the CRD would be admitted
     */
    public record Result(String crd, List<RuleCost> rules, Map<String, Long> totalCostByVersion, List<Violation> refusals) {
        public boolean admitted() {
            return refusals.isEmpty();
        }
    }

    private CrdAdmission() {
    }

    public static CustomResourceDefinition read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Serialization.unmarshal(in, CustomResourceDefinition.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Result check(CustomResourceDefinition crd) {
        List<RuleCost> rules = new ArrayList<>();
        Map<String, Long> totals = new LinkedHashMap<>();
        List<Violation> refusals = new ArrayList<>();
        for (CustomResourceDefinitionVersion version : crd.getSpec().getVersions()) {
            if (version.getSchema() == null || version.getSchema().getOpenAPIV3Schema() == null) {
                refusals.add(new Violation(version.getName(), "version " + version.getName() + " has no openAPIV3Schema"));
                continue;
            }
            JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
            List<Violation> structural = StructuralSchemaRules.check(root);
            refusals.addAll(structural);
            if (!structural.isEmpty()) {
                continue; // the API server skips CEL when the schema itself is wrong
            }
            SchemaCelTypes types = new SchemaCelTypes();
            List<RuleCost> versionRules = new ArrayList<>();
            new Walk(CelRuleCheck.environment(types), types, versionRules, refusals)
                    .visit(root, crd.getSpec().getNames().getKind(), "", 1L, null);
            long total = versionRules.stream().mapToLong(RuleCost::cost).reduce(0, CelCost::add);
            totals.put(version.getName(), total);
            rules.addAll(versionRules);
            if (total > PER_CRD_COST_LIMIT) {
                String top = versionRules.stream().sorted(Comparator.comparingLong(RuleCost::cost).reversed()).limit(4)
                        .map(RuleCost::describe).reduce((a, b) -> a + "; " + b).orElse("");
                refusals.add(new Violation(version.getName(), String.format("version %s: x-kubernetes-validations estimated rule cost "
                        + "total %s exceeds the limit %,d for the whole schema by a factor of %s; most expensive: %s", version.getName(),
                        RuleCost.amount(total), PER_CRD_COST_LIMIT, factor(total, PER_CRD_COST_LIMIT), top)));
            }
        }
        return new Result(crd.getMetadata().getName(), rules, totals, refusals);
    }

    /** How far over (or under) a limit a cost is, worded as the API server words it. */
    static String factor(long cost, long limit) {
        double f = cost == CelCost.UNBOUNDED ? Double.POSITIVE_INFINITY : (double) cost / limit;
        if (f > 100) {
            return "more than 100x";
        }
        return f < 1.5 ? String.format("%fx", f) : String.format("%.1fx", f);
    }

    private record Walk(Cel base, SchemaCelTypes types, List<RuleCost> rules, List<Violation> refusals) {

        /**
         * @param cardinality        times the node can occur per object, or null when a list or map above it is unbounded
         * @param unboundedAncestor  the path of the first such list or map, for the fix
         */
        void visit(JSONSchemaProps schema, String typeName, String path, Long cardinality, String unboundedAncestor) {
            if (schema == null) {
                return;
            }
            List<ValidationRule> declared = schema.getXKubernetesValidations();
            if (declared != null && !declared.isEmpty()) {
                estimateRules(schema, declared, typeName, path, cardinality, unboundedAncestor);
            }
            Long perValue = SchemaSizes.childCardinality(schema);
            Long childCardinality = cardinality == null || perValue == null ? null : CelCost.multiply(cardinality, perValue);
            String childUnbounded = unboundedAncestor != null ? unboundedAncestor : perValue == null ? display(path) : null;
            if (schema.getProperties() != null) {
                schema.getProperties().forEach((name, child) -> visit(child, typeName + "." + name,
                        path.isEmpty() ? name : path + "." + name, childCardinality, childUnbounded));
            }
            if (SchemaSizes.items(schema) != null) {
                visit(SchemaSizes.items(schema), typeName + ".@items", path + "[]", childCardinality, childUnbounded);
            }
            if (SchemaSizes.values(schema) != null) {
                visit(SchemaSizes.values(schema), typeName + ".@values", path + "[*]", childCardinality, childUnbounded);
            }
        }

        private void estimateRules(JSONSchemaProps schema, List<ValidationRule> declared, String typeName, String path,
                Long cardinality, String unboundedAncestor) {
            String where = display(path);
            Cel cel;
            try {
                cel = CelRuleCheck.ruleEnvironment(base, types, schema, typeName);
            } catch (RuntimeException e) {
                refusals.add(new Violation(where, where + ": no CEL type for the rules' node: " + e.getMessage()));
                return;
            }
            long times = cardinality != null ? cardinality : SchemaSizes.unboundedCardinality(schema);
            for (int i = 0; i < declared.size(); i++) {
                ValidationRule rule = declared.get(i);
                estimate(cel, schema, where, i, rule.getRule(), times, unboundedAncestor);
                if (rule.getMessageExpression() != null && !rule.getMessageExpression().isBlank()) {
                    estimate(cel, schema, where, i, rule.getMessageExpression(), times, unboundedAncestor);
                }
            }
        }

        private void estimate(Cel cel, JSONSchemaProps schema, String where, int index, String expression, long times,
                String unboundedAncestor) {
            String at = where + " x-kubernetes-validations[" + index + "]";
            CelAbstractSyntaxTree ast;
            try {
                ast = CelRuleCheck.checked(cel, expression, FieldPath.root());
            } catch (IllegalStateException e) {
                refusals.add(new Violation(where, at + ": " + expression + " does not compile: " + e.getMessage()));
                return;
            }
            CelCostEstimator.Estimate estimate;
            try {
                estimate = CelCostEstimator.estimate(ast, schema, where.equals("<root>") ? "" : where);
            } catch (CelCostEstimator.Unsupported e) {
                refusals.add(new Violation(where, at + ": " + e.getMessage() + " (in `" + expression + "`); the check cannot vouch "
                        + "for this rule: model it in FunctionCost (functions) or CelCostEstimator (expression forms), or write the rule with the functions it covers"));
                return;
            }
            List<String> fixes = new ArrayList<>(estimate.limitsToAdd().stream().sorted().toList());
            if (unboundedAncestor != null) {
                fixes.add("add maxItems (or maxProperties) to " + unboundedAncestor);
            }
            long cost = CelCost.multiply(estimate.cost(), times);
            RuleCost ruleCost = new RuleCost(where, index, expression, estimate.cost(), times, cost, List.copyOf(fixes));
            rules.add(ruleCost);
            if (ruleCost.overRuleLimit()) {
                refusals.add(new Violation(where, String.format("%s: estimated rule cost %s exceeds the per-rule limit %,d by a factor "
                        + "of %s (`%s`: %s per call x cardinality %s); fix: %s", at, RuleCost.amount(cost), PER_RULE_COST_LIMIT,
                        factor(cost, PER_RULE_COST_LIMIT), expression, RuleCost.amount(estimate.cost()), RuleCost.amount(times),
                        fixes.isEmpty() ? "simplify the rule" : String.join(", ", fixes))));
            }
        }

        private static String display(String path) {
            return path.isEmpty() ? "<root>" : path;
        }
    }
}
