package io.fedtune.operator.validation;

import static io.fedtune.operator.validation.CelCost.add;
import static io.fedtune.operator.validation.CelCost.multiply;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelKind;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The static worst-case cost of one CEL rule, as kube-apiserver 1.29 and later estimate it when a CRD is created or
 * updated: cel-go's checker cost estimator (checker/cost.go of cel-go 0.17, the version of Kubernetes 1.29/1.30; the
 * same for this subset in later ones) with the API server's size estimator (sizes from {@link SchemaSizes}) and
 * presence tests that cost nothing of their own.
 *
 * <p>Covered: literals, variables, field selection, {@code has()}, the comprehensions that the macros all, exists,
 * exists_one, map and filter expand to (over lists and maps with a schema), logical and conditional operators,
 * comparisons (strings cost 0.1 per byte of the shorter side), arithmetic, {@code !}, {@code size}, indexing,
 * {@code in}, list and map literals, string/list concatenation, {@code duration()} of a string, and the string functions startsWith, endsWith,
 * contains and matches. Anything else throws {@link Unsupported} rather than guess, so a new rule cannot slip past.
 * Only the maximum is computed; the API server also compares only that with its limits.
 *
 * <p>This class walks the expression; {@link FunctionCost} costs the calls and {@link ValueSizes} sizes the values.
 */
final class CelCostEstimator {
    private static final long LIST_CREATE_BASE_COST = 10;
    private static final long MAP_CREATE_BASE_COST = 30;

    /** A rule's estimate: its cost per evaluation, and the limits whose absence made a size request-sized. */
    record Estimate(long cost, Set<String> limitsToAdd) {
    }

    /** An expression the estimator does not model; thrown instead of a guess. */
    static final class Unsupported extends RuntimeException {
        Unsupported(String what) {
            super("unsupported expression for cost estimation: " + what);
        }
    }

    private final SchemaNode self;
    private final ValueSizes sizes;
    private final Map<String, Deque<Optional<SchemaNode>>> locals = new HashMap<>();

    private CelCostEstimator(CelAbstractSyntaxTree ast, JSONSchemaProps selfSchema, String selfPath) {
        this.self = SchemaNode.of(selfSchema, selfPath);
        this.sizes = new ValueSizes(ast);
    }

    /**
     * @param ast        the checked rule, compiled with {@code self} (and {@code oldSelf}) typed as selfSchema
     * @param selfSchema the schema node the rule sits on
     * @param selfPath   that node's path for messages, e.g. spec.evaluation.datasets
     */
    static Estimate estimate(CelAbstractSyntaxTree ast, JSONSchemaProps selfSchema, String selfPath) {
        CelCostEstimator estimator = new CelCostEstimator(ast, selfSchema, selfPath);
        long cost = estimator.cost(ast.getExpr());
        return new Estimate(cost, estimator.sizes.limitsToAdd());
    }

    private long cost(CelExpr e) {
        return switch (e.getKind()) {
            case CONSTANT -> 0;
            case IDENT -> costIdent(e);
            case SELECT -> costSelect(e);
            case CALL -> costCall(e);
            case LIST -> add(sum(e.list().elements()), LIST_CREATE_BASE_COST);
            case MAP -> {
                long sum = 0;
                for (CelExpr.CelMap.Entry entry : e.map().entries()) {
                    sum = add(sum, add(cost(entry.key()), cost(entry.value())));
                }
                yield add(sum, MAP_CREATE_BASE_COST);
            }
            case COMPREHENSION -> costComprehension(e);
            default -> throw new Unsupported(e.getKind() + " expression " + e);
        };
    }

    private long costIdent(CelExpr e) {
        String name = e.ident().name();
        Deque<Optional<SchemaNode>> scope = locals.get(name);
        if (scope != null && !scope.isEmpty()) {
            sizes.bind(e, scope.peek().orElse(null));
        } else if (name.equals("self") || name.equals("oldSelf")) {
            sizes.bind(e, self);
        } else {
            throw new Unsupported("variable " + name);
        }
        return 1;
    }

    private long costSelect(CelExpr e) {
        CelExpr.CelSelect select = e.select();
        if (select.testOnly()) {
            // has(): the API server makes the presence test itself free; the operand still costs
            return cost(select.operand());
        }
        long sum = cost(select.operand());
        CelKind kind = sizes.kind(select.operand());
        if (kind == CelKind.MAP || kind == CelKind.STRUCT || kind == CelKind.TYPE_PARAM) {
            sum = add(sum, 1);
        }
        SchemaNode operand = sizes.node(select.operand());
        if (operand != null) {
            sizes.bind(e, operand.field(select.field()));
        }
        return sum;
    }

    private long costComprehension(CelExpr e) {
        CelExpr.CelComprehension c = e.comprehension();
        if (!c.iterVar2().isEmpty()) {
            throw new Unsupported("two-variable comprehension " + e);
        }
        long sum = add(cost(c.iterRange()), cost(c.accuInit()));
        SchemaNode range = sizes.node(c.iterRange());
        if (range == null || range.mapKey()) {
            throw new Unsupported("iteration over a value that is not a schema field: " + c.iterRange());
        }
        SchemaNode element = switch (sizes.kind(c.iterRange())) {
            case LIST -> range.item();
            case MAP -> range.key();
            default -> throw new Unsupported("iteration over " + sizes.kind(c.iterRange()) + " " + c.iterRange());
        };
        push(c.accuVar(), null);
        push(c.iterVar(), element);
        long loop = cost(c.loopCondition());
        long step = cost(c.loopStep());
        pop(c.iterVar());
        sum = add(sum, cost(c.result()));
        pop(c.accuVar());
        return add(sum, multiply(sizes.size(c.iterRange()), add(step, loop)));
    }

    private long costCall(CelExpr e) {
        CelExpr.CelCall call = e.call();
        List<CelExpr> args = call.args();
        long[] argCosts = new long[args.size()];
        for (int i = 0; i < args.size(); i++) {
            argCosts[i] = cost(args.get(i));
        }
        long targetCost = call.target().isPresent() ? cost(call.target().get()) : 0;
        return add(targetCost, FunctionCost.of(e, argCosts, sizes));
    }

    private long sum(List<CelExpr> exprs) {
        long sum = 0;
        for (CelExpr e : exprs) {
            sum = add(sum, cost(e));
        }
        return sum;
    }

    private void push(String name, SchemaNode node) {
        locals.computeIfAbsent(name, n -> new ArrayDeque<>()).push(Optional.ofNullable(node));
    }

    private void pop(String name) {
        locals.get(name).pop();
    }
}
