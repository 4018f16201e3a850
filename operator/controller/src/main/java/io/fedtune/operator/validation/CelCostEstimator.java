package io.fedtune.operator.validation;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelKind;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
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
 * {@code in}, list and map literals, string/list concatenation, and the string functions startsWith, endsWith,
 * contains and matches. Anything else throws {@link Unsupported} rather than guess, so a new rule cannot slip past.
 * Only the maximum is computed; the API server also compares only that with its limits.
 */
final class CelCostEstimator {
    static final long UNBOUNDED = Long.MAX_VALUE;
    private static final double STRING_TRAVERSAL_COST_FACTOR = 0.1;
    private static final double REGEX_STRING_LENGTH_COST_FACTOR = 0.25;
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

    /** The schema a CEL value comes from, with its path for messages, e.g. spec.evaluation.datasets[].name. */
    private record Node(JSONSchemaProps schema, String path, boolean mapKey) {
        long maxElements() {
            // map keys are typed as the API server's plain string type, which carries no size
            return mapKey ? 0 : SchemaSizes.maxElements(schema);
        }
    }

    private final CelAbstractSyntaxTree ast;
    private final Node self;
    private final Map<Long, Node> nodes = new HashMap<>();
    private final Map<Long, Long> computedSizes = new HashMap<>();
    private final Map<String, Deque<Optional<Node>>> locals = new HashMap<>();
    private final Set<String> limitsToAdd = new LinkedHashSet<>();

    private CelCostEstimator(CelAbstractSyntaxTree ast, JSONSchemaProps selfSchema, String selfPath) {
        this.ast = ast;
        this.self = new Node(selfSchema, selfPath, false);
    }

    /**
     * @param ast        the checked rule, compiled with {@code self} (and {@code oldSelf}) typed as selfSchema
     * @param selfSchema the schema node the rule sits on
     * @param selfPath   that node's path for messages, e.g. spec.evaluation.datasets
     */
    static Estimate estimate(CelAbstractSyntaxTree ast, JSONSchemaProps selfSchema, String selfPath) {
        CelCostEstimator estimator = new CelCostEstimator(ast, selfSchema, selfPath);
        long cost = estimator.cost(ast.getExpr());
        return new Estimate(cost, Set.copyOf(estimator.limitsToAdd));
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
        Deque<Optional<Node>> scope = locals.get(name);
        if (scope != null && !scope.isEmpty()) {
            scope.peek().ifPresent(node -> nodes.put(e.id(), node));
        } else if (name.equals("self") || name.equals("oldSelf")) {
            nodes.put(e.id(), self);
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
        CelKind kind = kind(select.operand());
        if (kind == CelKind.MAP || kind == CelKind.STRUCT || kind == CelKind.TYPE_PARAM) {
            sum = add(sum, 1);
        }
        Node operand = nodes.get(select.operand().id());
        if (operand != null && !operand.mapKey() && operand.schema().getProperties() != null) {
            JSONSchemaProps field = operand.schema().getProperties().get(select.field());
            if (field != null) {
                nodes.put(e.id(), new Node(field, join(operand.path(), select.field()), false));
            }
        }
        return sum;
    }

    private long costComprehension(CelExpr e) {
        CelExpr.CelComprehension c = e.comprehension();
        if (!c.iterVar2().isEmpty()) {
            throw new Unsupported("two-variable comprehension " + e);
        }
        long sum = add(cost(c.iterRange()), cost(c.accuInit()));
        Node range = nodes.get(c.iterRange().id());
        if (range == null || range.mapKey()) {
            throw new Unsupported("iteration over a value that is not a schema field: " + c.iterRange());
        }
        Node element = switch (kind(c.iterRange())) {
            case LIST -> new Node(SchemaSizes.items(range.schema()), range.path() + "[]", false);
            case MAP -> new Node(null, range.path() + " keys", true);
            default -> throw new Unsupported("iteration over " + kind(c.iterRange()) + " " + c.iterRange());
        };
        push(c.accuVar(), null);
        push(c.iterVar(), element);
        long loop = cost(c.loopCondition());
        long step = cost(c.loopStep());
        pop(c.iterVar());
        sum = add(sum, cost(c.result()));
        pop(c.accuVar());
        return add(sum, multiply(size(c.iterRange()), add(step, loop)));
    }

    private long costCall(CelExpr e) {
        CelExpr.CelCall call = e.call();
        List<CelExpr> args = call.args();
        long[] argCosts = new long[args.size()];
        long argSum = 0;
        for (int i = 0; i < args.size(); i++) {
            argCosts[i] = cost(args.get(i));
            argSum = add(argSum, argCosts[i]);
        }
        long targetCost = call.target().isPresent() ? cost(call.target().get()) : 0;
        String function = call.function();
        boolean member = call.target().isPresent();
        long fn = switch (function) {
            case "_&&_", "_||_" -> argSum;
            case "_?_:_" -> {
                computedSizes.put(e.id(), Math.max(size(args.get(1)), size(args.get(2))));
                yield add(argCosts[0], Math.max(argCosts[1], argCosts[2]));
            }
            case "_==_", "_!=_" -> add(traversal(Math.min(size(args.get(0)), size(args.get(1)))), argSum);
            case "_<_", "_<=_", "_>_", "_>=_" -> isText(args.get(0))
                    ? add(traversal(Math.min(size(args.get(0)), size(args.get(1)))), argSum)
                    : add(1, argSum);
            case "_+_" -> {
                CelKind kind = kind(args.get(0));
                if (kind == CelKind.STRING || kind == CelKind.BYTES || kind == CelKind.LIST) {
                    long resultSize = add(size(args.get(0)), size(args.get(1)));
                    computedSizes.put(e.id(), resultSize);
                    yield add(kind == CelKind.LIST ? 1 : traversal(resultSize), argSum);
                }
                yield add(1, argSum);
            }
            case "_-_", "_*_", "_/_", "_%_", "-_", "!_", "@not_strictly_false", "size" -> add(1, argSum);
            case "_[_]" -> {
                index(e, args.get(0));
                yield add(1, argSum);
            }
            case "@in" -> kind(args.get(1)) == CelKind.LIST ? add(size(args.get(1)), argSum) : add(1, argSum);
            case "startsWith", "endsWith" -> {
                requireMember(member, isText(call.target().orElse(null)), e);
                yield add(traversal(size(args.get(0))), argSum);
            }
            case "contains" -> {
                requireMember(member, isText(call.target().orElse(null)), e);
                yield add(multiply(traversal(size(call.target().get())), traversal(size(args.get(0)))), argSum);
            }
            case "matches" -> {
                requireMember(member, isText(call.target().orElse(null)), e);
                long text = traversal(add(size(call.target().get()), 1));
                long regex = factor(size(args.get(0)), REGEX_STRING_LENGTH_COST_FACTOR);
                yield add(multiply(text, regex), argSum);
            }
            default -> throw new Unsupported("function " + function + " in " + e);
        };
        return add(targetCost, fn);
    }

    private void index(CelExpr e, CelExpr container) {
        Node node = nodes.get(container.id());
        if (node == null || node.mapKey()) {
            return;
        }
        switch (kind(container)) {
            case LIST -> nodes.put(e.id(), new Node(SchemaSizes.items(node.schema()), node.path() + "[]", false));
            case MAP -> {
                JSONSchemaProps values = SchemaSizes.values(node.schema());
                if (values != null) {
                    nodes.put(e.id(), new Node(values, node.path() + "[*]", false));
                }
            }
            default -> {
            }
        }
    }

    private static void requireMember(boolean member, boolean onString, CelExpr e) {
        if (!member || !onString) {
            throw new Unsupported("only the string member form is modelled: " + e);
        }
    }

    /** The size of a value as the cost estimator sees it: literal sizes, sizes computed by calls, or its schema. */
    private long size(CelExpr e) {
        Long computed = computedSizes.get(e.id());
        if (computed != null) {
            return computed;
        }
        switch (e.getKind()) {
            case CONSTANT -> {
                CelConstant constant = e.constant();
                return switch (constant.getKind()) {
                    case STRING_VALUE -> constant.stringValue().codePointCount(0, constant.stringValue().length());
                    case BYTES_VALUE -> constant.bytesValue().size();
                    default -> 1;
                };
            }
            case LIST -> {
                return e.list().elements().size();
            }
            case MAP -> {
                return e.map().entries().size();
            }
            default -> {
            }
        }
        Node node = nodes.get(e.id());
        if (node != null) {
            if (node.schema() == null && !node.mapKey()) {
                throw new Unsupported("a list without an item schema: " + node.path());
            }
            if (!node.mapKey()) {
                String limit = SchemaSizes.missingLimit(node.schema());
                if (limit != null) {
                    limitsToAdd.add("add " + limit + " to " + node.path());
                }
            }
            return node.maxElements();
        }
        return switch (kind(e)) {
            case BOOL, DOUBLE, DURATION, INT, TIMESTAMP, UINT -> 1;
            default -> UNBOUNDED;
        };
    }

    private boolean isText(CelExpr e) {
        if (e == null) {
            return false;
        }
        CelKind kind = kind(e);
        return kind == CelKind.STRING || kind == CelKind.BYTES;
    }

    private CelKind kind(CelExpr e) {
        return ast.getType(e.id()).map(t -> t.kind()).orElse(CelKind.DYN);
    }

    private long sum(List<CelExpr> exprs) {
        long sum = 0;
        for (CelExpr e : exprs) {
            sum = add(sum, cost(e));
        }
        return sum;
    }

    private void push(String name, Node node) {
        locals.computeIfAbsent(name, n -> new ArrayDeque<>()).push(Optional.ofNullable(node));
    }

    private void pop(String name) {
        locals.get(name).pop();
    }

    private static String join(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    /** Cost of walking a string of the given size: 0.1 per byte, rounded up. */
    private static long traversal(long size) {
        return factor(size, STRING_TRAVERSAL_COST_FACTOR);
    }

    private static long factor(long size, double perUnit) {
        if (size == UNBOUNDED) {
            return UNBOUNDED;
        }
        double cost = Math.ceil(size * perUnit);
        return cost >= UNBOUNDED ? UNBOUNDED : (long) cost;
    }

    static long add(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 || a == UNBOUNDED || b == UNBOUNDED ? UNBOUNDED : r;
    }

    static long multiply(long a, long b) {
        if (a == 0 || b == 0) {
            return 0;
        }
        return a > UNBOUNDED / b ? UNBOUNDED : a * b;
    }
}
