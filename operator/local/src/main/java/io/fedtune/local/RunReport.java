package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.LocalEval;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.minio.MinioClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A report a person can open: every eval set's metrics per round (its ranking metric charted), each shard's train
 * loss and local evaluation per round, the last round's eval loss by context-length class, and what the base model and
 * the published adapter write after the same prompts, as an HTML page with inline SVG charts.
 */
public final class RunReport {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};

    private RunReport() {
    }

    public static Path write(FederatedRun run, Map<String, Map<String, Double>> baseline, SideBySide sideBySide, LocalCluster cluster,
                             Path file) throws IOException {
        if (run == null || run.getStatus() == null) {
            Files.writeString(file, "<html><body><p>The run has no status.</p></body></html>");
            return file;
        }
        var storage = run.getSpec().storage;
        MinioClient s3 = cluster.silos().stream().filter(s -> s.endpoint().equals(storage.endpoint)).findFirst()
                .map(S3Silo::client).orElseGet(() -> MinioClient.builder().endpoint(storage.endpoint).build());
        return write(run, baseline, sideBySide, new ReportStorage(s3, storage.endpoint), file);
    }

    /** The report from what storage yields; what it could not read is listed in the report instead of thrown. */
    static Path write(FederatedRun run, Map<String, Map<String, Double>> baseline, SideBySide sideBySide, ReportStorage s3, Path file)
            throws IOException {
        var storage = run.getSpec().storage;
        ObjectLayout layout = new ObjectLayout(storage.bucket, storage.prefix, run.getMetadata().getNamespace(), run.getMetadata().getName());

        EvalScores scores = EvalScores.of(run, baseline);
        Map<String, Map<Integer, Double>> trainByShard = new TreeMap<>();
        JsonNode lastGlobal = null;
        for (RoundSummary r : run.getStatus().history) {
            for (var shardManifest : shardManifests(s3, layout, r.round).entrySet()) {
                JsonNode loss = shardManifest.getValue().path("trainLoss");
                if (loss.isNumber()) {
                    trainByShard.computeIfAbsent(shardManifest.getKey(), k -> new TreeMap<>()).put(r.round, loss.asDouble());
                }
            }
            JsonNode global = s3.read("round " + r.round + " global eval",
                    S3Uri.parse(layout.globalAdapter(r.round) + "/manifest.json")).orElse(null);
            if (global != null) {
                lastGlobal = global;
            }
        }

        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>fedtune: ")
                .append(esc(run.getMetadata().getName())).append("</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
                        + "th{background:#f4f4f4}</style></head><body>");
        html.append("<h1>FederatedRun ").append(esc(run.getMetadata().getName())).append("</h1>");
        html.append("<p>Phase <b>").append(run.getStatus().phase).append("</b>, ").append(run.getStatus().completedRounds)
                .append(" rounds. ");
        if (run.getStatus().bestAdapter != null) {
            html.append("Best adapter: <code>").append(esc(run.getStatus().bestAdapter.uri)).append("</code> (round ")
                    .append(run.getStatus().bestAdapter.round).append(", ").append(esc(RunSummary.primary(run.getStatus().bestAdapter)))
                    .append(").");
        }
        html.append("</p><h2>Global evaluation per round</h2><p>Every metric of each eval set for the round's aggregate; "
                + "round 0 is the base model before any federated round (loss only). The first set is the primary one: "
                + "its ranking metric decides regressions, the best adapter and early stopping. Each chart shows the set's "
                + "ranking metric.</p>");
        // One chart per set: in- and out-of-domain losses differ by more than the changes worth seeing.
        for (String set : scores.sets()) {
            String metric = scores.chartedMetric(set);
            html.append("<h3>").append(esc(set)).append(scores.task(set).map(t -> " <small>(" + t + ")</small>").orElse(""))
                    .append("</h3>").append(metricTable(scores, set))
                    .append(chart(Map.of(set, scores.series(set, metric)), metric));
        }
        html.append("<h2>Shard train loss per round</h2>").append(chart(trainByShard, "train loss"));
        html.append("<h2>Local evaluation per shard</h2>").append(localEvalTable(run.getStatus().history));
        html.append("<h2>Rounds</h2><table><tr><th>round</th><th>outcome</th><th>participants</th><th>refused</th>"
                + "<th>mean train loss</th><th>global eval loss</th></tr>");
        for (RoundSummary r : run.getStatus().history) {
            html.append("<tr><td>").append(r.round).append("</td><td>").append(r.outcome).append("</td><td>")
                    .append(esc(String.join(", ", r.participants))).append("</td><td>")
                    .append(r.refused.isEmpty() ? "-" : esc(String.join(", ", r.refused.stream().map(x -> x.shard + ": " + x.reason).toList())))
                    .append("</td><td>")
                    .append(fmt(r.meanTrainLoss)).append("</td><td>").append(fmt(r.globalEvalLoss)).append("</td></tr>");
        }
        html.append("</table>");
        if (lastGlobal != null) {
            html.append("<h2>Last round: eval loss by context-length class</h2>").append(lengthClassTable(lastGlobal));
        }
        html.append(sideBySide(sideBySide));
        if (!s3.unread().isEmpty()) {
            html.append("<h2>Not in this report</h2><p>Storage could not give these; the charts and tables above leave "
                    + "them out.</p><ul>");
            s3.unread().forEach(line -> html.append("<li>").append(esc(line)).append("</li>"));
            html.append("</ul>");
        }
        html.append("</body></html>");
        Files.writeString(file, html);
        return file;
    }

    /** One row per round (0: the base model), one column per metric the set reported. */
    static String metricTable(EvalScores scores, String set) {
        List<String> metrics = scores.metrics(set);
        Map<Integer, Map<String, Double>> rounds = scores.rounds(set);
        if (rounds.isEmpty()) {
            return "<p>No scores reported for this set.</p>";
        }
        StringBuilder t = new StringBuilder("<table><tr><th>round</th>");
        metrics.forEach(m -> t.append("<th>").append(esc(m)).append("</th>"));
        t.append("</tr>");
        rounds.forEach((round, values) -> {
            t.append("<tr><td>").append(round == 0 ? "0 (base)" : round).append("</td>");
            metrics.forEach(m -> t.append("<td>").append(fmt(values.get(m))).append("</td>"));
            t.append("</tr>");
        });
        return t.append("</table>").toString();
    }

    /** Per round and participant: its local metric for the global adapter it started from, then for its own. */
    static String localEvalTable(List<RoundSummary> history) {
        if (history.stream().allMatch(r -> r.localEvals.isEmpty())) {
            return "<p>No local evaluations in the round history.</p>";
        }
        StringBuilder t = new StringBuilder("<p>Each participant scores, on its own held-out data, the global adapter it "
                + "started the round from and its adapter after local training.</p><table><tr><th>round</th><th>shard</th>"
                + "<th>metric</th><th>global (before)</th><th>local (after)</th><th>change</th></tr>");
        for (RoundSummary r : history) {
            for (LocalEval e : r.localEvals) {
                t.append("<tr><td>").append(r.round).append("</td><td>").append(esc(e.shard)).append("</td><td>")
                        .append(esc(e.metric)).append("</td><td>").append(fmt(e.global)).append("</td><td>")
                        .append(fmt(e.local)).append("</td><td>")
                        .append(e.global == null || e.local == null ? "-" : String.format(Locale.ROOT, "%+.4f", e.local - e.global))
                        .append("</td></tr>");
            }
        }
        return t.append("</table>").toString();
    }

    /** Both models' completions of each prompt, in two columns; or one line saying why there are none. */
    static String sideBySide(SideBySide generations) {
        StringBuilder h = new StringBuilder("<h2>Base model and result side by side</h2>");
        if (generations == null) {
            return h.append("<p>Not generated.</p>").toString();
        }
        if (generations.skipped() != null) {
            return h.append("<p>Skipped: ").append(esc(generations.skipped())).append(".</p>").toString();
        }
        h.append("<p>Greedy, at most ").append(generations.maxNewTokens()).append(" new tokens, ending at EOS; the result is <code>")
                .append(esc(generations.adapter().uri)).append("</code> (round ").append(generations.adapter().round)
                .append(").</p><table><tr><th>prompt</th><th>base model</th><th>result</th></tr>");
        // pre-wrap: a completion's verse breaks (blank lines, as in the training text) show as they are
        String cell = "<td style=\"text-align:left;white-space:pre-wrap;vertical-align:top\">";
        for (SideBySide.Row row : generations.rows()) {
            h.append("<tr>").append(cell).append(esc(row.prompt())).append("</td>").append(cell).append(esc(row.base()))
                    .append("</td>").append(cell).append(esc(row.adapter())).append("</td></tr>");
        }
        return h.append("</table>").toString();
    }

    /** The latest attempt's manifest of each shard in a round. */
    private static Map<String, JsonNode> shardManifests(ReportStorage s3, ObjectLayout layout, int round) {
        S3Uri shards = S3Uri.parse(layout.round(round) + "/shards/");
        Map<String, String> latest = new TreeMap<>();
        for (String key : s3.keys("round " + round + " shard train losses", shards)) {
            if (key.endsWith("/manifest.json")) {
                String shard = key.substring(shards.key().length()).split("/")[0];
                latest.merge(shard, key, (a, b) -> attempt(a) >= attempt(b) ? a : b);
            }
        }
        Map<String, JsonNode> out = new LinkedHashMap<>();
        latest.forEach((shard, key) -> s3.read("round " + round + " shard " + shard + " train loss", new S3Uri(shards.bucket(), key))
                .ifPresent(m -> out.put(shard, m)));
        return out;
    }

    private static int attempt(String key) {
        var m = java.util.regex.Pattern.compile("attempt-(\\d+)").matcher(key);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    /** One row per eval set and context-length class, from the aggregator manifest's evaluation. */
    private static String lengthClassTable(JsonNode manifest) {
        JsonNode sets = manifest.path("evaluation").path("sets");
        if (!sets.isObject() || sets.isEmpty()) {
            return "<p>No evaluation in the aggregator manifest.</p>";
        }
        StringBuilder t = new StringBuilder("<table><tr><th>eval set</th><th>context length</th><th>loss</th><th>perplexity</th>"
                + "<th>tokens</th></tr>");
        sets.properties().forEach(set -> {
            List<String> classes = new ArrayList<>(List.of("short", "medium", "long"));
            set.getValue().path("byLength").fieldNames().forEachRemaining(c -> {
                if (!classes.contains(c)) {
                    classes.add(c);
                }
            });
            for (String c : classes) {
                JsonNode v = set.getValue().path("byLength").path(c);
                if (!v.isMissingNode()) {
                    t.append("<tr><td>").append(esc(set.getKey())).append("</td><td>").append(esc(c)).append("</td><td>")
                            .append(fmt(v.path("loss").asDouble())).append("</td><td>")
                            .append(String.format(Locale.ROOT, "%.1f", v.path("perplexity").asDouble())).append("</td><td>")
                            .append(v.path("tokens").asLong()).append("</td></tr>");
                }
            }
        });
        return t.append("</table><p>Classes split the eval sequences by length: short up to a quarter of the maximum "
                + "sequence length, medium up to three quarters, long above.</p>").toString();
    }

    /** A line chart, one series per key, x = round. */
    static String chart(Map<String, Map<Integer, Double>> series, String yLabel) {
        if (series.isEmpty()) {
            return "<p>No data.</p>";
        }
        int w = 640;
        int h = 300;
        int pad = 50;
        int top = 24;
        int maxRound = series.values().stream().flatMap(m -> m.keySet().stream()).max(Integer::compare).orElse(1);
        int minRound = series.values().stream().flatMap(m -> m.keySet().stream()).min(Integer::compare).orElse(1);
        double lo = series.values().stream().flatMap(m -> m.values().stream()).min(Double::compare).orElse(0.0);
        double hi = series.values().stream().flatMap(m -> m.values().stream()).max(Double::compare).orElse(1.0);
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        double yLo = lo - 0.05 * (hi - lo);
        double yHi = hi + 0.05 * (hi - lo);
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"11\">", w + 160, h));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>", pad, h - pad, w, h - pad));
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>", pad, top, pad, h - pad));
        for (int i = 0; i <= 4; i++) {
            double v = yLo + (yHi - yLo) * i / 4;
            double y = (h - pad) - (h - pad - top) * i / 4.0;
            svg.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%.1f\">%.3f</text>", y + 4, v));
        }
        for (int r = minRound; r <= maxRound; r++) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>",
                    x(r, minRound, maxRound, pad, w), h - pad + 16, r));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">round</text>", (pad + w) / 2, h - 8));
        svg.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"10\">%s</text>", esc(yLabel)));
        int c = 0;
        for (var e : series.entrySet()) {
            String color = COLORS[c % COLORS.length];
            StringBuilder points = new StringBuilder();
            for (var p : e.getValue().entrySet()) {
                double px = x(p.getKey(), minRound, maxRound, pad, w);
                double py = (h - pad) - (h - pad - top) * (p.getValue() - yLo) / (yHi - yLo);
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", px, py, color));
            }
            svg.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>", points, color));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>", w + 10, 20 + 16 * c, color, esc(e.getKey())));
            c++;
        }
        return svg.append("</svg>").toString();
    }

    private static double x(int round, int min, int max, int pad, int w) {
        return max == min ? (pad + w) / 2.0 : pad + 20 + (w - pad - 40) * (round - min) / (double) (max - min);
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
