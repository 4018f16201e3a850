package io.fedtune.operator.validation;

import static io.fedtune.operator.validation.CelCost.add;
import static io.fedtune.operator.validation.CelCost.factor;
import static io.fedtune.operator.validation.CelCost.multiply;
import static io.fedtune.operator.validation.CelCost.traversal;

import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelKind;
import java.util.List;

/** The cost of one function or operator call once its arguments are costed, after cel-go's checker/cost.go. */
final class FunctionCost {
    private static final double REGEX_STRING_LENGTH_COST_FACTOR = 0.25;

    private FunctionCost() {
    }

    /**
     * @param e        the call
     * @param argCosts the cost of each of its arguments, the target not included
     * @param sizes    the sizes of its arguments, which also receive the sizes and schema nodes of its result
     */
    static long of(CelExpr e, long[] argCosts, ValueSizes sizes) {
        CelExpr.CelCall call = e.call();
        List<CelExpr> args = call.args();
        long argSum = 0;
        for (long argCost : argCosts) {
            argSum = add(argSum, argCost);
        }
        String function = call.function();
        return switch (function) {
            case "_&&_", "_||_" -> argSum;
            case "_?_:_" -> {
                sizes.computed(e, Math.max(sizes.size(args.get(1)), sizes.size(args.get(2))));
                yield add(argCosts[0], Math.max(argCosts[1], argCosts[2]));
            }
            case "_==_", "_!=_" -> add(traversal(Math.min(sizes.size(args.get(0)), sizes.size(args.get(1)))), argSum);
            case "_<_", "_<=_", "_>_", "_>=_" -> sizes.isText(args.get(0))
                    ? add(traversal(Math.min(sizes.size(args.get(0)), sizes.size(args.get(1)))), argSum)
                    : add(1, argSum);
            case "_+_" -> {
                CelKind kind = sizes.kind(args.get(0));
                if (kind == CelKind.STRING || kind == CelKind.BYTES || kind == CelKind.LIST) {
                    long resultSize = add(sizes.size(args.get(0)), sizes.size(args.get(1)));
                    sizes.computed(e, resultSize);
                    yield add(kind == CelKind.LIST ? 1 : traversal(resultSize), argSum);
                }
                yield add(1, argSum);
            }
            // duration(string): cel-go costs conversions to numbers, timestamps and durations as O(1)
            case "_-_", "_*_", "_/_", "_%_", "-_", "!_", "@not_strictly_false", "size", "duration" -> add(1, argSum);
            case "_[_]" -> {
                index(e, args.get(0), sizes);
                yield add(1, argSum);
            }
            case "@in" -> sizes.kind(args.get(1)) == CelKind.LIST ? add(sizes.size(args.get(1)), argSum) : add(1, argSum);
            case "startsWith", "endsWith" -> {
                textTarget(e, sizes);
                yield add(traversal(sizes.size(args.get(0))), argSum);
            }
            case "contains" -> {
                CelExpr target = textTarget(e, sizes);
                yield add(multiply(traversal(sizes.size(target)), traversal(sizes.size(args.get(0)))), argSum);
            }
            case "matches" -> {
                CelExpr target = textTarget(e, sizes);
                long text = traversal(add(sizes.size(target), 1));
                long regex = factor(sizes.size(args.get(0)), REGEX_STRING_LENGTH_COST_FACTOR);
                yield add(multiply(text, regex), argSum);
            }
            default -> throw new CelCostEstimator.Unsupported("function " + function + " in " + e);
        };
    }

    private static void index(CelExpr e, CelExpr container, ValueSizes sizes) {
        SchemaNode node = sizes.node(container);
        if (node == null || node.mapKey()) {
            return;
        }
        switch (sizes.kind(container)) {
            case LIST -> sizes.bind(e, node.item());
            case MAP -> sizes.bind(e, node.value());
            default -> {
            }
        }
    }

    private static CelExpr textTarget(CelExpr e, ValueSizes sizes) {
        CelExpr target = e.call().target().orElse(null);
        if (!sizes.isText(target)) {
            throw new CelCostEstimator.Unsupported("only the string member form is modelled: " + e);
        }
        return target;
    }
}
