package io.fedtune.strictapi;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Label selectors as labels.Parse reads them: each requirement's key a qualified name, each value a label value. */
final class LabelSelectors {
    private static final Pattern SET_REQUIREMENT = Pattern.compile("^(\\S+)\\s+(in|notin)\\s*\\((.*)\\)$");

    private LabelSelectors() {
    }

    /** The first problem labels.Parse would report, worded as it words it; empty when the selector parses. */
    static Optional<String> problem(String selector) {
        for (String term : terms(selector)) {
            String t = term.trim();
            if (t.isEmpty()) {
                continue;
            }
            String key;
            List<String> values = new ArrayList<>();
            Matcher set = SET_REQUIREMENT.matcher(t);
            if (set.matches()) {
                key = set.group(1);
                for (String v : set.group(3).split(",")) {
                    values.add(v.trim());
                }
            } else if (t.contains("!=") || t.contains("=")) {
                String op = t.contains("!=") ? "!=" : t.contains("==") ? "==" : "=";
                int at = t.indexOf(op);
                key = t.substring(0, at).trim();
                values.add(t.substring(at + op.length()).trim());
            } else {
                key = t.startsWith("!") ? t.substring(1).trim() : t;
            }
            List<String> keyProblems = NameRules.qualifiedNameProblems(key);
            if (!keyProblems.isEmpty()) {
                return Optional.of("unable to parse requirement: key: Invalid value: \"" + key + "\": " + keyProblems.get(0));
            }
            for (int i = 0; i < values.size(); i++) {
                List<String> valueProblems = NameRules.labelValueProblems(values.get(i));
                if (!valueProblems.isEmpty()) {
                    return Optional.of("unable to parse requirement: values[" + i + "][" + key + "]: Invalid value: \""
                            + values.get(i) + "\": " + valueProblems.get(0));
                }
            }
        }
        return Optional.empty();
    }

    /** The selector split at its top-level commas (not those inside an in/notin set). */
    private static List<String> terms(String selector) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        StringBuilder current = new StringBuilder();
        for (char c : selector.toCharArray()) {
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            }
            if (c == ',' && depth == 0) {
                out.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        out.add(current.toString());
        return out;
    }
}
