package io.fedtune.operator.validation;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelKind;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the cost estimator knows of each value in one rule: its type, the schema node it comes from, and its size,
 * with the limits whose absence made a size request-sized.
 */
final class ValueSizes {
    private final CelAbstractSyntaxTree ast;
    private final Map<Long, SchemaNode> nodes = new HashMap<>();
    private final Map<Long, Long> computedSizes = new HashMap<>();
    private final Set<String> limitsToAdd = new LinkedHashSet<>();

    ValueSizes(CelAbstractSyntaxTree ast) {
        this.ast = ast;
    }

    CelKind kind(CelExpr e) {
        return ast.getType(e.id()).map(t -> t.kind()).orElse(CelKind.DYN);
    }

    boolean isText(CelExpr e) {
        if (e == null) {
            return false;
        }
        CelKind kind = kind(e);
        return kind == CelKind.STRING || kind == CelKind.BYTES;
    }

    /** The schema node the value of e comes from, or null where it comes from none. */
    SchemaNode node(CelExpr e) {
        return nodes.get(e.id());
    }

    void bind(CelExpr e, SchemaNode node) {
        if (node != null) {
            nodes.put(e.id(), node);
        }
    }

    /** Records the size a call's result can reach, e.g. of a concatenation. */
    void computed(CelExpr e, long size) {
        computedSizes.put(e.id(), size);
    }

    Set<String> limitsToAdd() {
        return Set.copyOf(limitsToAdd);
    }

    /** The size of a value as the cost estimator sees it: literal sizes, sizes computed by calls, or its schema. */
    long size(CelExpr e) {
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
        SchemaNode node = nodes.get(e.id());
        if (node != null) {
            return schemaSize(node);
        }
        return switch (kind(e)) {
            case BOOL, DOUBLE, DURATION, INT, TIMESTAMP, UINT -> 1;
            default -> CelCost.UNBOUNDED;
        };
    }

    private long schemaSize(SchemaNode node) {
        if (node.schema() == null && !node.mapKey()) {
            throw new CelCostEstimator.Unsupported("a list without an item schema: " + node.path());
        }
        if (!node.mapKey()) {
            String limit = SchemaSizes.missingLimit(node.schema());
            if (limit != null) {
                limitsToAdd.add("add " + limit + " to " + node.path());
            }
        }
        return node.maxElements();
    }
}
