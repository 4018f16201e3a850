package io.fedtune.local;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.FederatedRun;
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
 * A report a person can open: global eval loss per round for each eval set, each shard's train loss per round, and
 * the last round's eval loss by context-length class, as an HTML page with inline SVG charts.
 */
public final class RunReport {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};

    private RunReport() {
    }

    public static Path write(FederatedRun run, Map<String, Double> baseline, LocalCluster cluster, Path file) throws IOException {
        if (run == null || run.getStatus() == null) {
            Files.writeString(file, "<html><body><p>The run has no status.</p></body></html>");
            return file;
        }
        var storage = run.getSpec().storage;
        MinioClient s3 = cluster.silos().stream().filter(s -> s.endpoint().equals(storage.endpoint)).findFirst()
                .map(S3Silo::client).orElseGet(() -> MinioClient.builder().endpoint(storage.endpoint).build());
        return write(run, baseline, new ReportStorage(s3, storage.endpoint), file);
    }

    /** The report from what storage yields; what it could not read is listed in the report instead of thrown. */
    static Path write(FederatedRun run, Map<String, Double> baseline, ReportStorage s3, Path file) throws IOException {
        var storage = run.getSpec().storage;
        ObjectLayout layout = new ObjectLayout(storage.bucket, storage.prefix, run.getMetadata().getNamespace(), run.getMetadata().getName());

        Map<String, Map<Integer, Double>> evalBySet = new TreeMap<>();
        baseline.forEach((set, loss) -> evalBySet.computeIfAbsent(set, k -> new TreeMap<>()).put(0, loss));
        Map<String, Map<Integer, Double>> trainByShard = new TreeMap<>();
        JsonNode lastGlobal = null;
        for (RoundSummary r : run.getStatus().history) {
            r.evalLosses.forEach((set, loss) -> evalBySet.computeIfAbsent(set, k -> new TreeMap<>()).put(r.round, loss));
            if (r.evalLosses.isEmpty() && r.globalEvalLoss != null) {
                evalBySet.computeIfAbsent("global", k -> new TreeMap<>()).put(r.round, r.globalEvalLoss);
            }
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
                    .append(run.getStatus().bestAdapter.round).append(").");
        }
        html.append("</p><h2>Global eval loss per round</h2><p>Round 0 is the base model before any federated round.</p>");
        // One chart per set: in- and out-of-domain losses differ by more than the changes worth seeing.
        evalBySet.forEach((set, losses) -> html.append("<h3>").append(esc(set)).append("</h3>")
                .append(chart(Map.of(set, losses), "eval loss")));
        html.append("<h2>Shard train loss per round</h2>").append(chart(trainByShard, "train loss"));
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
