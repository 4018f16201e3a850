package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of JSONPath that printer columns use: {@code .a.b.c} and filters such as
 * {@code .status.conditions[?(@.type=="Ready")].status}.
 */
final class PrinterPath {
    private static final Pattern FILTER = Pattern.compile("([^.\\[]+)\\[\\?\\(@\\.([^=]+)==\"([^\"]*)\"\\)\\]");

    private PrinterPath() {
    }

    /** The value at the path, or null when any step is absent. */
    static JsonNode read(JsonNode root, String path) {
        JsonNode node = root;
        for (String step : steps(path)) {
            if (node == null || node.isMissingNode() || node.isNull()) {
                return null;
            }
            Matcher filter = FILTER.matcher(step);
            if (filter.matches()) {
                JsonNode match = null;
                for (JsonNode item : node.path(filter.group(1))) {
                    if (filter.group(3).equals(item.path(filter.group(2)).asText())) {
                        match = item;
                        break;
                    }
                }
                node = match;
            } else {
                node = node.path(step);
            }
        }
        return node == null || node.isMissingNode() ? null : node;
    }

    /** Splits on dots outside filter brackets. */
    private static java.util.List<String> steps(String path) {
        java.util.List<String> steps = new java.util.ArrayList<>();
        StringBuilder current = new StringBuilder();
        int depth = 0;
        for (char c : path.toCharArray()) {
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            }
            if (c == '.' && depth == 0) {
                if (current.length() > 0) {
                    steps.add(current.toString());
                }
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (current.length() > 0) {
            steps.add(current.toString());
        }
        return steps;
    }
}
