package io.fedtune.trainer.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * Splits a JSONL corpus into non-IID shards as federated LoRA studies do: Dirichlet(alpha) proportions
 * per context-length class (each shard sees a different mix of short and long records), or Dirichlet
 * proportions of the amount of data. Small alpha: very uneven shards; large alpha: nearly IID. Optionally a quality
 * skew on top ({@link QualitySkew}): a different share of each shard's records degraded.
 */
public final class Partition {
    public enum Mode { LENGTH, AMOUNT }

    /** A record's original line and its length class (0 = shortest). */
    record Line(String json, int lengthClass) {
    }

    /**
     * @param degradedFraction the share of its records degraded, null without quality skew
     * @param degraded         records per degradation, null without quality skew
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ShardSummary(int shard, int samples, int[] perClass, Double degradedFraction, Map<String, Integer> degraded) {
    }

    public record Result(List<List<String>> shards, List<ShardSummary> summary, long[] classBounds) {
    }

    public static Result split(Path file, DataFormat format, int shards, double alpha, Mode mode, int classes, long seed)
            throws IOException {
        return split(file, format, shards, alpha, mode, classes, seed, QualitySkew.NONE);
    }

    /**
     * Reads the lines, puts them in `classes` length classes by quantiles of their text length, then splits; then
     * degrades a drawn fraction of each shard (QualitySkew) with a generator of its own, so the shards hold the same
     * records with or without it.
     */
    public static Result split(Path file, DataFormat format, int shards, double alpha, Mode mode, int classes, long seed,
                               QualitySkew quality) throws IOException {
        if (shards < 1 || classes < 1 || !(alpha > 0)) {
            throw new IllegalArgumentException("need shards >= 1, classes >= 1 and alpha > 0");
        }
        List<String> lines = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                file.toString().endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(file)) : Files.newInputStream(file),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = json.readTree(line);
                } catch (IOException e) {
                    continue;
                }
                List<Segment> segments = format.segments(node);
                if (segments != null) {
                    lines.add(line);
                    lengths.add(segments.stream().mapToInt(s -> s.text().length()).sum());
                }
            }
        }
        if (lines.size() < shards) {
            throw DataException.empty(file.getFileName() + " has " + lines.size() + " usable records, fewer than " + shards + " shards");
        }
        int[] sorted = lengths.stream().mapToInt(Integer::intValue).sorted().toArray();
        long[] bounds = new long[classes - 1];
        for (int c = 1; c < classes; c++) {
            bounds[c - 1] = sorted[(int) ((long) sorted.length * c / classes)];
        }
        List<List<Line>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < lines.size(); i++) {
            int c = 0;
            while (c < bounds.length && lengths.get(i) >= bounds[c]) {
                c++;
            }
            byClass.get(c).add(new Line(lines.get(i), c));
        }
        Random random = new Random(seed);
        List<List<Line>> assigned = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            assigned.add(new ArrayList<>());
        }
        if (mode == Mode.LENGTH) {
            for (List<Line> cls : byClass) {
                Collections.shuffle(cls, random);
                deal(cls, dirichlet(shards, alpha, random), assigned);
            }
        } else {
            List<Line> all = new ArrayList<>();
            byClass.forEach(all::addAll);
            Collections.shuffle(all, random);
            deal(all, dirichlet(shards, alpha, random), assigned);
        }
        // every shard gets at least one record, taken from the largest
        for (List<Line> shard : assigned) {
            if (shard.isEmpty()) {
                List<Line> largest = Collections.max(assigned, (a, b) -> Integer.compare(a.size(), b.size()));
                shard.add(largest.remove(largest.size() - 1));
            }
        }
        List<List<String>> out = new ArrayList<>();
        List<ShardSummary> summary = new ArrayList<>();
        Random degradation = new Random(~seed);
        for (int s = 0; s < shards; s++) {
            int[] perClass = new int[classes];
            List<String> shardLines = new ArrayList<>();
            for (Line l : assigned.get(s)) {
                perClass[l.lengthClass()]++;
                shardLines.add(l.json());
            }
            if (quality.enabled()) {
                QualitySkew.Shard degraded = quality.degrade(shardLines, lines, format, degradation);
                out.add(degraded.lines());
                summary.add(new ShardSummary(s, shardLines.size(), perClass,
                        Math.round(degraded.fraction() * 1e4) / 1e4, degraded.counts()));
            } else {
                out.add(shardLines);
                summary.add(new ShardSummary(s, shardLines.size(), perClass, null, null));
            }
        }
        return new Result(out, summary, bounds);
    }

    private static void deal(List<Line> items, double[] proportions, List<List<Line>> shards) {
        int n = items.size();
        int start = 0;
        double cumulative = 0;
        for (int s = 0; s < proportions.length; s++) {
            cumulative += proportions[s];
            int end = s == proportions.length - 1 ? n : (int) Math.round(cumulative * n);
            shards.get(s).addAll(items.subList(start, Math.max(start, end)));
            start = Math.max(start, end);
        }
    }

    static double[] dirichlet(int k, double alpha, Random random) {
        double[] g = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++) {
            g[i] = gamma(alpha, random);
            sum += g[i];
        }
        for (int i = 0; i < k; i++) {
            g[i] = sum > 0 ? g[i] / sum : 1.0 / k;
        }
        return g;
    }

    /** Marsaglia and Tsang's method; shape below 1 via the boost u^(1/shape). */
    static double gamma(double shape, Random random) {
        if (shape < 1) {
            return gamma(shape + 1, random) * Math.pow(random.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = random.nextGaussian();
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = random.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }

    /** A plain-text table: shard, samples, then samples per length class. */
    public static String table(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-8s %8s", "shard", "samples"));
        for (int c = 0; c <= r.classBounds().length; c++) {
            String lo = c == 0 ? "0" : String.valueOf(r.classBounds()[c - 1]);
            String hi = c == r.classBounds().length ? "inf" : String.valueOf(r.classBounds()[c]);
            sb.append(String.format(" %14s", "len[" + lo + "," + hi + ")"));
        }
        Map<String, Integer> kinds = r.summary().get(0).degraded();
        if (kinds != null) {
            sb.append(String.format(" %9s", "degraded"));
            kinds.keySet().forEach(k -> sb.append(String.format(" %9s", k)));
        }
        sb.append('\n');
        for (ShardSummary s : r.summary()) {
            sb.append(String.format("%-8d %8d", s.shard(), s.samples()));
            Arrays.stream(s.perClass()).forEach(n -> sb.append(String.format(" %14d", n)));
            if (s.degraded() != null) {
                sb.append(String.format(" %9.4f", s.degradedFraction()));
                s.degraded().values().forEach(n -> sb.append(String.format(" %9d", n)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
