package io.fedtune.local;

import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.LocalEval;
import io.fedtune.api.v1alpha1.RoundSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** What `fedtune-local up` prints once the run has ended: rounds, every eval set's metrics, the result, the generations. */
final class RunSummary {

    private RunSummary() {
    }

    /** An adapter's ranking figure by name, e.g. "Loss 4.1287" or "AccuracyNorm 0.4500". */
    static String primary(AdapterRef a) {
        if (a.evalMetric != null && a.evalScore != null) {
            return a.evalMetric + " " + fmt(a.evalScore);
        }
        return "Loss " + fmt(a.evalLoss);
    }

    static List<String> lines(FederatedRun run, Map<String, Map<String, Double>> baseline, SideBySide generations) {
        List<String> out = new ArrayList<>();
        if (run == null || run.getStatus() == null) {
            out.add("The run has no status.");
            return out;
        }
        FederatedRunStatus s = run.getStatus();
        out.add("");
        out.add(String.format(Locale.ROOT, "%-6s %-11s %-24s %-9s %-11s %-11s %s",
                "ROUND", "OUTCOME", "PARTICIPANTS", "REFUSED", "TRAIN-LOSS", "EVAL-LOSS", "SECONDS(train/agg)"));
        for (RoundSummary r : s.history) {
            out.add(String.format(Locale.ROOT, "%-6d %-11s %-24s %-9d %-11s %-11s %s/%s", r.round, r.outcome,
                    String.join(",", r.participants), r.refused.size(), fmt(r.meanTrainLoss), fmt(r.globalEvalLoss),
                    fmt0(r.trainingSeconds), fmt0(r.aggregationSeconds)));
        }
        out.add("");
        out.add("Phase: " + s.phase + " (" + s.conditions.stream()
                .filter(c -> "True".equals(c.getStatus())).map(c -> c.getType() + "/" + c.getReason()).toList() + ")");
        RoundSummary last = s.history.isEmpty() ? null : s.history.get(s.history.size() - 1);
        if (last != null) {
            EvalScores scores = EvalScores.of(run, baseline);
            for (String set : scores.sets()) {
                out.add(setLine(scores, set, last.round));
            }
            if (!last.localEvals.isEmpty()) {
                out.add("Local evaluation in round " + last.round + " (global before -> local after): " + last.localEvals.stream()
                        .map(RunSummary::local).collect(Collectors.joining(", ")));
            }
        }
        if (s.bestAdapter != null) {
            out.add("Best: round " + s.bestAdapter.round + ", " + primary(s.bestAdapter));
        }
        if (s.result != null) {
            out.add(String.format(Locale.ROOT, "Result (status.result): %s (the best global adapter, round %d, %s, sha256 %s)",
                    s.result.uri, s.result.round, primary(s.result), s.result.sha256));
        } else if (s.bestAdapter != null) {
            out.add(String.format(Locale.ROOT, "Best global adapter (not published): %s (round %d, %s, sha256 %s)",
                    s.bestAdapter.uri, s.bestAdapter.round, primary(s.bestAdapter), s.bestAdapter.sha256));
        }
        out.addAll(generations(generations));
        return out;
    }

    /** e.g. "book-in-domain (MultipleChoice): after round 5 Accuracy 0.3000, AccuracyNorm 0.3500, Loss 2.1000". */
    private static String setLine(EvalScores scores, String set, int lastRound) {
        StringBuilder b = new StringBuilder(set);
        scores.task(set).ifPresent(t -> b.append(" (").append(t).append(')'));
        b.append(':');
        Map<String, Double> base = scores.rounds(set).get(0);
        Map<String, Double> after = scores.rounds(set).get(lastRound);
        if (base == null && after == null) {
            return b.append(" no scores reported").toString();
        }
        if (base != null) {
            b.append(" base model ").append(figures(scores, set, base)).append(" ->");
        }
        b.append(" after round ").append(lastRound).append(' ').append(after == null ? "-" : figures(scores, set, after));
        return b.toString();
    }

    private static String figures(EvalScores scores, String set, Map<String, Double> values) {
        return scores.metrics(set).stream().filter(values::containsKey).map(m -> m + " " + fmt(values.get(m)))
                .collect(Collectors.joining(", "));
    }

    private static String local(LocalEval e) {
        return e.shard + " " + e.metric + " " + fmt(e.global) + " -> " + fmt(e.local);
    }

    static List<String> generations(SideBySide g) {
        List<String> out = new ArrayList<>();
        if (g == null) {
            return out;
        }
        if (g.skipped() != null) {
            out.add("Side by side generations skipped: " + g.skipped());
            return out;
        }
        out.add("Side by side, greedy, " + g.maxNewTokens() + " new tokens at most (¶: a verse break): the base model, then the "
                + "result (round " + g.adapter().round + ")");
        for (SideBySide.Row row : g.rows()) {
            out.add("  " + row.prompt());
            out.add("    base:   " + oneLine(row.base()));
            out.add("    result: " + oneLine(row.adapter()));
        }
        return out;
    }

    /** A completion on one line: a verse break (a blank line, as in training text) shows as a pilcrow. */
    private static String oneLine(String completion) {
        return completion.replaceAll("\\s*\n\\s*\n\\s*", " ¶ ").replaceAll("\\s*\n\\s*", " ").strip();
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String fmt0(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.0f", v);
    }
}
