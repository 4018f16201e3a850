package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Quality skew across shards: each shard draws its fraction of degraded records uniformly in [0, maxFraction], and
 * that many of its records, chosen seeded, get one of the enabled degradations. A degraded record keeps every other
 * field and carries {@code "degraded": "<kind>"}; the rest of the shard's lines are left byte for byte as they were.
 * What is degraded is the text the model learns: a Text record's {@code text}, a PromptCompletion record's
 * {@code completion}, a Chat record's last assistant {@code content}.
 */
public final class QualitySkew {
    public enum Kind {
        /** the words in a seeded order, joined by single spaces */
        SHUFFLE,
        /** cut after a seeded fraction (10% to 90%, at least one word) of its words */
        TRUNCATE,
        /** another record's answer: a completion or assistant turn, or for Text the other record's second half */
        MISMATCH;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind parse(String name) {
            for (Kind k : values()) {
                if (k.wireName().equals(name.strip().toLowerCase(Locale.ROOT))) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown degradation " + name + " (shuffle, truncate, mismatch)");
        }
    }

    public static final QualitySkew NONE = new QualitySkew(0, List.of(Kind.values()));
    private static final Pattern WORD = Pattern.compile("\\S+");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final double maxFraction;
    private final List<Kind> kinds;

    public QualitySkew(double maxFraction, List<Kind> kinds) {
        if (!(maxFraction >= 0 && maxFraction <= 1) || kinds.isEmpty()) {
            throw new IllegalArgumentException("the degraded fraction must be in [0, 1] and at least one degradation named");
        }
        this.maxFraction = maxFraction;
        this.kinds = List.copyOf(kinds);
    }

    public boolean enabled() {
        return maxFraction > 0;
    }

    public double maxFraction() {
        return maxFraction;
    }

    public List<Kind> kinds() {
        return kinds;
    }

    /** @param counts records per degradation, every enabled kind listed */
    record Shard(List<String> lines, double fraction, Map<String, Integer> counts) {
    }

    /**
     * Degrades a drawn fraction of one shard's lines (each usable as format).
     *
     * @param donors lines whose answers a mismatch may take, the shard's own among them (compared by identity)
     */
    Shard degrade(List<String> lines, List<String> donors, DataFormat format, Random random) {
        double fraction = maxFraction * random.nextDouble();
        int count = (int) Math.round(fraction * lines.size());
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        Map<String, Integer> counts = new LinkedHashMap<>();
        kinds.forEach(k -> counts.put(k.wireName(), 0));
        List<String> out = new ArrayList<>(lines);
        for (int i : order.subList(0, count)) {
            Kind kind = kinds.get(random.nextInt(kinds.size()));
            out.set(i, degrade(lines.get(i), kind, format, donor(lines.get(i), donors, random), random));
            counts.merge(kind.wireName(), 1, Integer::sum);
        }
        return new Shard(out, lines.isEmpty() ? 0 : (double) count / lines.size(), counts);
    }

    private static String donor(String line, List<String> donors, Random random) {
        if (donors.size() < 2) {
            return line;
        }
        while (true) {
            String d = donors.get(random.nextInt(donors.size()));
            if (d != line) {
                return d;
            }
        }
    }

    /** One record degraded by kind; donor is the record a mismatch takes its answer from. */
    static String degrade(String line, Kind kind, DataFormat format, String donor, Random random) {
        try {
            ObjectNode record = (ObjectNode) JSON.readTree(line);
            ObjectNode holder = answerHolder(record, format);
            String field = format == DataFormat.TEXT ? "text" : format.promptCompletion() ? "completion" : "content";
            String text = holder.get(field).asText();
            String degraded = switch (kind) {
                case SHUFFLE -> {
                    List<String> words = new ArrayList<>(Arrays.asList(text.strip().split("\\s+")));
                    Collections.shuffle(words, random);
                    yield String.join(" ", words);
                }
                case TRUNCATE -> {
                    int[] ends = wordEnds(text);
                    int keep = Math.max(1, (int) Math.round(ends.length * (0.1 + 0.8 * random.nextDouble())));
                    yield ends.length == 0 ? text : text.substring(0, ends[Math.min(keep, ends.length) - 1]);
                }
                case MISMATCH -> {
                    ObjectNode other = answerHolder((ObjectNode) JSON.readTree(donor), format);
                    String theirs = other.get(field).asText();
                    yield format == DataFormat.TEXT ? firstHalf(text) + secondHalf(theirs) : theirs;
                }
            };
            holder.put(field, degraded);
            record.put("degraded", kind.wireName());
            return JSON.writeValueAsString(record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The object whose field holds the answer: the record, or a Chat record's last assistant message. */
    private static ObjectNode answerHolder(ObjectNode record, DataFormat format) {
        if (format != DataFormat.CHAT) {
            return record;
        }
        ObjectNode last = null;
        for (JsonNode m : record.get("messages")) {
            if ("assistant".equals(m.path("role").asText())) {
                last = (ObjectNode) m;
            }
        }
        return last;
    }

    private static int[] wordEnds(String text) {
        Matcher m = WORD.matcher(text);
        List<Integer> ends = new ArrayList<>();
        while (m.find()) {
            ends.add(m.end());
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Up to the end of its first half of words (whitespace as it was). */
    static String firstHalf(String text) {
        int[] ends = wordEnds(text);
        return ends.length == 0 ? text : text.substring(0, ends[Math.max(0, ends.length / 2 - 1)]);
    }

    /** From the whitespace before the start of its second half of words. */
    static String secondHalf(String text) {
        int[] ends = wordEnds(text);
        if (ends.length < 2) {
            return " " + text.strip();
        }
        int from = ends[ends.length / 2 - 1];
        return text.substring(from);
    }
}
