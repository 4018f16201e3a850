package io.fedtune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * config.json's {@code rope_scaling}: how the rotary inverse frequencies and the cos/sin attention factor depart from
 * plain RoPE, as Hugging Face's modeling_rope_utils defines them. Optional fields are kept as given (null when absent)
 * so that the config writes back as it was read.
 *
 * <ul>
 *   <li>{@code linear}: every inverse frequency divided by factor.</li>
 *   <li>{@code dynamic} (NTK): the base becomes theta * ((factor * L / max) - (factor - 1))^(d / (d - 2)) with
 *   L = max(sequence length, max_position_embeddings); fedtune takes the sequence length of each forward pass (the
 *   padded batch length; in cached decoding the cached plus new tokens), which is what Hugging Face computes for a
 *   forward pass from position 0. Hugging Face also keeps the longest length seen and reuses it for shorter inputs
 *   until they drop below max_position_embeddings; fedtune does not keep that state. Up to max_position_embeddings
 *   it is plain RoPE.</li>
 *   <li>{@code llama3}: long wavelengths divided by factor, short ones kept, a smooth blend between.</li>
 *   <li>{@code yarn}: interpolation blended with extrapolation over a ramp of dimensions set by beta_fast and
 *   beta_slow at original_max_position_embeddings (default max_position_embeddings), cos and sin multiplied by
 *   attention_factor (default 0.1 ln(factor) + 1, or the mscale / mscale_all_dim ratio when both are given).</li>
 *   <li>{@code longrope} (Phi-3-*-128k, Phi-3.5, Phi-4-mini): each rotary frequency pair i divided by short_factor[i]
 *   while the forward pass's length (the padded batch length; in cached decoding the cached plus new tokens) is at
 *   most original_max_position_embeddings, by long_factor[i] past it, as Hugging Face's dynamic update picks them;
 *   cos and sin multiplied by attention_factor (default sqrt(1 + ln(factor) / ln(original_max_position_embeddings)),
 *   1 for factor at most 1). factor and original_max_position_embeddings are held as Hugging Face resolves them
 *   (see {@link #parse(JsonNode, int, Integer, int)}).</li>
 * </ul>
 */
public record RopeScaling(String type, double factor, Double lowFreqFactor, Double highFreqFactor,
                          Integer originalMaxPositionEmbeddings, Double betaFast, Double betaSlow,
                          Double attentionFactor, Double mscale, Double mscaleAllDim, Boolean truncate,
                          List<Double> shortFactor, List<Double> longFactor) {
    public static final List<String> SUPPORTED = List.of("linear", "dynamic", "llama3", "yarn", "longrope");
    private static final String FIELD = "rope_scaling";

    public static RopeScaling linear(double factor) {
        return new RopeScaling("linear", factor, null, null, null, null, null, null, null, null, null, null, null);
    }

    public static RopeScaling dynamic(double factor) {
        return new RopeScaling("dynamic", factor, null, null, null, null, null, null, null, null, null, null, null);
    }

    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMax) {
        return new RopeScaling("llama3", factor, lowFreqFactor, highFreqFactor, originalMax, null, null, null, null, null, null, null, null);
    }

    public static RopeScaling yarn(double factor, Integer originalMax, Double betaFast, Double betaSlow,
                                   Double attentionFactor, Double mscale, Double mscaleAllDim) {
        return new RopeScaling("yarn", factor, null, null, originalMax, betaFast, betaSlow, attentionFactor, mscale, mscaleAllDim, null, null, null);
    }

    /**
     * @param factor          the scaling factor as Hugging Face resolves it (given, or max_position_embeddings /
     *                        original_max_position_embeddings)
     * @param attentionFactor null for the default
     */
    public static RopeScaling longrope(double factor, int originalMax, List<Double> shortFactor, List<Double> longFactor,
                                       Double attentionFactor) {
        return new RopeScaling("longrope", factor, null, null, originalMax, null, null, attentionFactor, null, null, null,
                List.copyOf(shortFactor), List.copyOf(longFactor));
    }

    /**
     * @param maxPositionEmbeddings config.json's max_position_embeddings (or the family's default)
     * @param topLevelOriginalMax   config.json's own original_max_position_embeddings (Phi3Config: 4096 when absent),
     *                              which transformers 5 puts over rope_scaling's for llama3, yarn and longrope; null
     *                              where the config has none
     * @param rotaryDim             the dimensions of each head the rotary embedding turns (longrope's factor lists
     *                              hold one entry per pair)
     * @return null for no scaling (absent, null, or rope_type "default")
     */
    static RopeScaling parse(JsonNode n, int maxPositionEmbeddings, Integer topLevelOriginalMax, int rotaryDim)
            throws CheckpointInvalidException {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + " must be an object, got " + n);
        }
        JsonNode typeNode = n.has("rope_type") ? n.get("rope_type") : n.get("type");
        String type = typeNode == null || typeNode.isNull() ? null : typeNode.asText();
        if (type == null) {
            throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + ".rope_type (or type) is missing");
        }
        if (type.equals("default")) {
            return null;
        }
        if (!SUPPORTED.contains(type)) {
            throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + ".rope_type " + type
                    + " is not supported (supported: " + SUPPORTED + ")");
        }
        if (type.equals("longrope")) {
            return longrope(n, maxPositionEmbeddings, topLevelOriginalMax, rotaryDim);
        }
        double factor = positive(n, "factor", true);
        Integer original = topLevelOriginalMax != null ? topLevelOriginalMax
                : positiveInt(n, "original_max_position_embeddings", type.equals("llama3"));
        RopeScaling s = switch (type) {
            case "llama3" -> new RopeScaling(type, factor, positive(n, "low_freq_factor", true), positive(n, "high_freq_factor", true),
                    original, null, null, null, null, null, null, null, null);
            case "yarn" -> new RopeScaling(type, factor, null, null, original,
                    positive(n, "beta_fast", false), positive(n, "beta_slow", false), positive(n, "attention_factor", false),
                    number(n, "mscale"), number(n, "mscale_all_dim"), n.has("truncate") ? n.get("truncate").asBoolean(true) : null,
                    null, null);
            default -> new RopeScaling(type, factor, null, null, null, null, null, null, null, null, null, null, null);
        };
        if (type.equals("llama3") && s.highFreqFactor() <= s.lowFreqFactor()) {
            throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + ".high_freq_factor " + s.highFreqFactor()
                    + " must exceed low_freq_factor " + s.lowFreqFactor());
        }
        return s;
    }

    /**
     * transformers 5: original_max_position_embeddings from the config itself, else rope_scaling, else
     * max_position_embeddings; factor as given, else max_position_embeddings / original_max_position_embeddings.
     */
    private static RopeScaling longrope(JsonNode n, int maxPositionEmbeddings, Integer topLevelOriginalMax, int rotaryDim)
            throws CheckpointInvalidException {
        Integer original = topLevelOriginalMax;
        if (original == null) {
            original = positiveInt(n, "original_max_position_embeddings", false);
        }
        if (original == null) {
            original = maxPositionEmbeddings;
        }
        Double factor = positive(n, "factor", false);
        return longrope(factor != null ? factor : (double) maxPositionEmbeddings / original, original,
                factors(n, "short_factor", rotaryDim), factors(n, "long_factor", rotaryDim), positive(n, "attention_factor", false));
    }

    /** A longrope factor list: one positive number per rotary pair, as Phi3Config checks its length. */
    private static List<Double> factors(JsonNode n, String field, int rotaryDim) throws CheckpointInvalidException {
        JsonNode v = n.get(field);
        String where = ModelConfig.FILE + ": " + FIELD + "." + field;
        if (v == null || v.isNull()) {
            throw new CheckpointInvalidException(where + " is required for rope_type longrope");
        }
        if (!v.isArray()) {
            throw new CheckpointInvalidException(where + " must be a list of numbers, got " + v);
        }
        if (v.size() != rotaryDim / 2) {
            throw new CheckpointInvalidException(where + " has " + v.size() + " entries; it must have one per rotary pair, "
                    + rotaryDim / 2 + " (rotary dimensions " + rotaryDim + " = head_dim * partial_rotary_factor)");
        }
        List<Double> out = new java.util.ArrayList<>();
        for (JsonNode x : v) {
            if (!x.isNumber() || x.asDouble() <= 0) {
                throw new CheckpointInvalidException(where + " must hold positive numbers, got " + x);
            }
            out.add(x.asDouble());
        }
        return out;
    }

    private static Double positive(JsonNode n, String field, boolean required) throws CheckpointInvalidException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + "." + field + " is required for rope_type "
                        + n.path("rope_type").asText(n.path("type").asText()));
            }
            return null;
        }
        if (!v.isNumber() || v.asDouble() <= 0) {
            throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + "." + field + " must be a positive number, got " + v);
        }
        return v.asDouble();
    }

    private static Integer positiveInt(JsonNode n, String field, boolean required) throws CheckpointInvalidException {
        Double d = positive(n, field, required);
        if (d != null && d != Math.rint(d)) {
            throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + "." + field + " must be an integer, got " + d);
        }
        return d == null ? null : d.intValue();
    }

    private static Double number(JsonNode n, String field) throws CheckpointInvalidException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw new CheckpointInvalidException(ModelConfig.FILE + ": " + FIELD + "." + field + " must be a number, got " + v);
        }
        return v.asDouble();
    }

    void write(ObjectNode n) {
        n.put("rope_type", type);
        n.put("factor", factor);
        putIfSet(n, "low_freq_factor", lowFreqFactor);
        putIfSet(n, "high_freq_factor", highFreqFactor);
        if (originalMaxPositionEmbeddings != null) {
            n.put("original_max_position_embeddings", originalMaxPositionEmbeddings);
        }
        putIfSet(n, "beta_fast", betaFast);
        putIfSet(n, "beta_slow", betaSlow);
        putIfSet(n, "attention_factor", attentionFactor);
        putIfSet(n, "mscale", mscale);
        putIfSet(n, "mscale_all_dim", mscaleAllDim);
        if (truncate != null) {
            n.put("truncate", truncate);
        }
        if (shortFactor != null) {
            shortFactor.forEach(n.putArray("short_factor")::add);
            longFactor.forEach(n.putArray("long_factor")::add);
        }
    }

    private static void putIfSet(ObjectNode n, String field, Double v) {
        if (v != null) {
            n.put(field, v);
        }
    }

    /** Plain RoPE's inverse frequencies, theta^(-2i/d) for i below d/2. */
    static double[] plain(double theta, int dim) {
        double[] f = new double[dim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(theta, (2.0 * i) / dim);
        }
        return f;
    }

    /**
     * The inverse frequencies [dim / 2] for a forward pass over positions 0 .. seqLen - 1 (seqLen matters only to
     * dynamic), with or without scaling.
     */
    static double[] inverseFrequencies(RopeScaling s, double theta, int dim, int maxPositionEmbeddings, int seqLen) {
        if (s == null) {
            return plain(theta, dim);
        }
        return switch (s.type) {
            case "linear" -> divide(plain(theta, dim), s.factor);
            case "dynamic" -> {
                double length = Math.max(seqLen, maxPositionEmbeddings);
                double base = theta * Math.pow(s.factor * length / maxPositionEmbeddings - (s.factor - 1), dim / (dim - 2.0));
                yield plain(base, dim);
            }
            case "llama3" -> s.llama3(plain(theta, dim));
            case "yarn" -> s.yarn(theta, dim, maxPositionEmbeddings);
            case "longrope" -> s.longrope(plain(theta, dim), seqLen);
            default -> throw new IllegalStateException("rope_type " + s.type);
        };
    }

    /** The factor cos and sin are multiplied by: only yarn and longrope depart from 1. */
    static double attentionFactor(RopeScaling s) {
        if (s == null || !(s.type.equals("yarn") || s.type.equals("longrope"))) {
            return 1.0;
        }
        if (s.attentionFactor != null) {
            return s.attentionFactor;
        }
        if (s.type.equals("longrope")) {
            return s.factor <= 1 ? 1.0 : Math.sqrt(1 + Math.log(s.factor) / Math.log(s.originalMaxPositionEmbeddings));
        }
        if (s.mscale != null && s.mscale != 0 && s.mscaleAllDim != null && s.mscaleAllDim != 0) {
            return yarnMscale(s.factor, s.mscale) / yarnMscale(s.factor, s.mscaleAllDim);
        }
        return yarnMscale(s.factor, 1);
    }

    private static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    private static double[] divide(double[] f, double by) {
        for (int i = 0; i < f.length; i++) {
            f[i] /= by;
        }
        return f;
    }

    private double[] llama3(double[] f) {
        int old = originalMaxPositionEmbeddings;
        double lowFreqWavelen = old / lowFreqFactor;
        double highFreqWavelen = old / highFreqFactor;
        for (int i = 0; i < f.length; i++) {
            double wavelen = 2 * Math.PI / f[i];
            if (wavelen > lowFreqWavelen) {
                f[i] /= factor;
            } else if (wavelen >= highFreqWavelen) {
                double smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                f[i] = (1 - smooth) * f[i] / factor + smooth * f[i];
            }
        }
        return f;
    }

    private double[] longrope(double[] f, int seqLen) {
        List<Double> ext = seqLen > originalMaxPositionEmbeddings ? longFactor : shortFactor;
        for (int i = 0; i < f.length; i++) {
            f[i] /= ext.get(i);
        }
        return f;
    }

    private double[] yarn(double theta, int dim, int maxPositionEmbeddings) {
        int original = originalMaxPositionEmbeddings != null ? originalMaxPositionEmbeddings : maxPositionEmbeddings;
        double fast = betaFast != null ? betaFast : 32;
        double slow = betaSlow != null ? betaSlow : 1;
        double low = correctionDim(fast, dim, theta, original);
        double high = correctionDim(slow, dim, theta, original);
        if (truncate == null || truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001;
        }
        double[] extrapolation = plain(theta, dim);
        double[] f = new double[dim / 2];
        for (int i = 0; i < f.length; i++) {
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double keep = 1 - ramp;
            f[i] = extrapolation[i] / factor * (1 - keep) + extrapolation[i] * keep;
        }
        return f;
    }

    /** The dimension at which a frequency turns numRotations times over the original context. */
    private static double correctionDim(double numRotations, int dim, double base, int maxPositionEmbeddings) {
        return dim * Math.log(maxPositionEmbeddings / (numRotations * 2 * Math.PI)) / (2 * Math.log(base));
    }
}
