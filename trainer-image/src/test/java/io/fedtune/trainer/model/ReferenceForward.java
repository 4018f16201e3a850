package io.fedtune.trainer.model;

import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.FloatTensor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;

/**
 * The decoder's forward pass in plain loops and doubles, written from the Llama/Mistral/Qwen2/Qwen3/Phi-3 and Gemma 2/3
 * definitions, for checking LlamaModel. Rope scaling, sliding windows, Qwen3's q/k norms, Phi-3's fused projections and
 * its partial_rotary_factor, and Gemma's fields are read from config.json itself, not from ModelConfig, so that the
 * parsing is checked too.
 */
public final class ReferenceForward {
    private final Checkpoint cp;
    private final ModelConfig c;
    private final Map<String, FloatTensor> lora;
    private final double scaling;
    private final JsonNode json;
    private final String arch;
    /** Gemma 2 or 3: norms scale by 1 + weight, and everything else read in the gemma* methods below. */
    private final boolean gemma;
    private final boolean phi3;
    /** Dimensions of each head the rotary embedding turns: the first ones. */
    private final int rotary;

    public ReferenceForward(Checkpoint cp, Map<String, FloatTensor> lora, double scaling) throws IOException {
        this.cp = cp;
        this.c = cp.config();
        this.lora = lora;
        this.scaling = scaling;
        this.json = new ObjectMapper().readTree(Files.readString(cp.dir().resolve("config.json")));
        this.arch = json.path("architectures").path(0).asText();
        this.gemma = arch.equals("Gemma2ForCausalLM") || arch.equals("Gemma3ForCausalLM");
        this.phi3 = arch.equals("Phi3ForCausalLM");
        this.rotary = (int) (c.headDim() * json.path("partial_rotary_factor").asDouble(1.0));
    }

    /** Gemma: layer_types when listed; else Gemma 2 slides on even layers, Gemma 3 on all but every pattern-th. */
    private boolean gemmaSliding(int layer) {
        JsonNode types = json.get("layer_types");
        if (types != null && types.isArray()) {
            return types.get(layer).asText().equals("sliding_attention");
        }
        if (arch.equals("Gemma2ForCausalLM")) {
            return layer % 2 == 0;
        }
        return (layer + 1) % json.path("sliding_window_pattern").asInt(6) != 0;
    }

    /** Gemma's soft-caps, with Gemma2Config's defaults (50, 30) and none for Gemma 3; NaN for none. */
    private double gemmaCap(String field, double gemma2Default) {
        JsonNode v = json.get(field);
        if (v == null) {
            return arch.equals("Gemma2ForCausalLM") ? gemma2Default : Double.NaN;
        }
        return v.isNull() ? Double.NaN : v.asDouble();
    }

    private static double capped(double x, double cap) {
        return Double.isNaN(cap) ? x : cap * Math.tanh(x / cap);
    }

    /** PyTorch's gelu, approximate="tanh". */
    private static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** Keys a query at layer l sees, itself included; Integer.MAX_VALUE for all earlier ones. */
    private int window(int layer) {
        String arch = json.path("architectures").path(0).asText();
        JsonNode w = json.get("sliding_window");
        if (arch.equals("MistralForCausalLM")) {
            return w == null ? 4096 : w.isNull() ? Integer.MAX_VALUE : w.asInt();
        }
        if (gemma) {
            return gemmaSliding(layer) ? json.path("sliding_window").asInt(4096) : Integer.MAX_VALUE;
        }
        if (phi3) {
            return w == null || w.isNull() ? Integer.MAX_VALUE : w.asInt();
        }
        if (json.path("use_sliding_window").asBoolean(false) && layer >= json.path("max_window_layers").asInt(28)) {
            return w == null ? 4096 : w.asInt();
        }
        return Integer.MAX_VALUE;
    }

    /** Inverse frequencies for a sequence of seqLen tokens, from HF's rope definitions. */
    private double[] inverseFrequencies(int seqLen) {
        int d = rotary;
        double theta = c.ropeTheta();
        JsonNode rs = json.path("rope_scaling");
        String type = ropeType(rs);
        double factor = rs.path("factor").asDouble(1);
        double[] f = new double[d / 2];
        if (type.equals("dynamic")) {
            double max = c.maxPositionEmbeddings();
            double len = seqLen > max ? seqLen : max;
            theta = theta * Math.pow(factor * len / max - (factor - 1), (double) d / (d - 2));
        }
        for (int i = 0; i < d / 2; i++) {
            f[i] = Math.pow(theta, -2.0 * i / d);
        }
        switch (type) {
            case "linear" -> {
                for (int i = 0; i < f.length; i++) {
                    f[i] = f[i] / factor;
                }
            }
            case "llama3" -> {
                double old = rs.get("original_max_position_embeddings").asDouble();
                double lo = rs.get("low_freq_factor").asDouble();
                double hi = rs.get("high_freq_factor").asDouble();
                for (int i = 0; i < f.length; i++) {
                    double wavelen = 2 * Math.PI / f[i];
                    if (wavelen < old / hi) {
                        continue;
                    }
                    if (wavelen > old / lo) {
                        f[i] = f[i] / factor;
                    } else {
                        double smooth = (old / wavelen - lo) / (hi - lo);
                        f[i] = (1 - smooth) * (f[i] / factor) + smooth * f[i];
                    }
                }
            }
            case "yarn" -> {
                double orig = rs.path("original_max_position_embeddings").asDouble(c.maxPositionEmbeddings());
                double fast = rs.path("beta_fast").asDouble(32);
                double slow = rs.path("beta_slow").asDouble(1);
                double low = Math.max(0, Math.floor(d * Math.log(orig / (fast * 2 * Math.PI)) / (2 * Math.log(theta))));
                double high = Math.min(d - 1, Math.ceil(d * Math.log(orig / (slow * 2 * Math.PI)) / (2 * Math.log(theta))));
                if (high == low) {
                    high = high + 0.001;
                }
                for (int i = 0; i < f.length; i++) {
                    double ramp = (i - low) / (high - low);
                    ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
                    double extrapolate = 1 - ramp;
                    f[i] = f[i] * extrapolate + f[i] / factor * ramp;
                }
            }
            case "longrope" -> {
                double[] ext = longropeFactors(rs, seqLen > longropeOriginal(rs) ? "long_factor" : "short_factor");
                for (int i = 0; i < f.length; i++) {
                    f[i] = 1 / (ext[i] * Math.pow(theta, 2.0 * i / d));
                }
            }
            default -> {
            }
        }
        return f;
    }

    /** Phi3Config reads the legacy su and yarn as longrope. */
    private String ropeType(JsonNode rs) {
        String type = rs.has("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("default");
        return phi3 && (type.equals("su") || type.equals("yarn")) ? "longrope" : type;
    }

    /** transformers 5: the config's own field (Phi3Config's default 4096), else rope_scaling's, else max_position_embeddings. */
    private double longropeOriginal(JsonNode rs) {
        if (json.has("original_max_position_embeddings")) {
            return json.get("original_max_position_embeddings").asDouble();
        }
        return phi3 ? 4096 : rs.path("original_max_position_embeddings").asDouble(json.path("max_position_embeddings").asDouble());
    }

    private static double[] longropeFactors(JsonNode rs, String field) {
        double[] out = new double[rs.get(field).size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = rs.get(field).get(i).asDouble();
        }
        return out;
    }

    private double attentionFactor() {
        JsonNode rs = json.path("rope_scaling");
        String type = ropeType(rs);
        if (!type.equals("yarn") && !type.equals("longrope")) {
            return 1;
        }
        if (rs.has("attention_factor")) {
            return rs.get("attention_factor").asDouble();
        }
        if (type.equals("longrope")) {
            double original = longropeOriginal(rs);
            double scale = rs.has("factor") ? rs.get("factor").asDouble() : json.get("max_position_embeddings").asDouble() / original;
            return scale <= 1 ? 1 : Math.sqrt(1 + Math.log(scale) / Math.log(original));
        }
        double factor = rs.get("factor").asDouble();
        if (rs.path("mscale").asDouble(0) != 0 && rs.path("mscale_all_dim").asDouble(0) != 0) {
            return (0.1 * rs.get("mscale").asDouble() * Math.log(factor) + 1) / (0.1 * rs.get("mscale_all_dim").asDouble() * Math.log(factor) + 1);
        }
        return factor <= 1 ? 1 : 0.1 * Math.log(factor) + 1;
    }

    /** Qwen3: each head's d values RMS-normalised with the layer's q_norm or k_norm weight. */
    private void headNorm(double[] x, int heads, float[] w) {
        int d = c.headDim();
        for (int h = 0; h < heads; h++) {
            double ms = 0;
            for (int e = 0; e < d; e++) {
                ms += x[h * d + e] * x[h * d + e];
            }
            double r = 1 / Math.sqrt(ms / d + c.rmsNormEps());
            for (int e = 0; e < d; e++) {
                x[h * d + e] = x[h * d + e] * r * ((gemma ? 1 : 0) + w[e]);
            }
        }
    }

    /** logits [time][vocab] for one sequence. */
    public double[][] logits(int[] ids) throws IOException {
        int t = ids.length;
        int hdim = c.hiddenSize();
        float[] emb = cp.read("model.embed_tokens.weight").values();
        double[][] h = new double[t][hdim];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < hdim; j++) {
                h[i][j] = emb[ids[i] * hdim + j] * (gemma ? Math.sqrt(json.get("hidden_size").asInt()) : 1);
            }
        }
        double attnCap = gemma ? gemmaCap("attn_logit_softcapping", 50) : Double.NaN;
        double scoreScale = gemma ? 1 / Math.sqrt(json.path("query_pre_attn_scalar").asDouble(256)) : 1 / Math.sqrt(c.headDim());
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] x = norm(h, cp.read(p + "input_layernorm.weight").values());
            int d = c.headDim();
            double[][] q;
            double[][] k;
            double[][] v;
            if (phi3) {
                // qkv_proj's output: the query heads, then the key heads, then the value heads
                int qd = c.heads() * d;
                int kvd = c.kvHeads() * d;
                double[][] qkv = linear(x, l, "self_attn", "qkv_proj", hdim, qd + 2 * kvd, false);
                q = columns(qkv, 0, qd);
                k = columns(qkv, qd, kvd);
                v = columns(qkv, qd + kvd, kvd);
            } else {
                q = linear(x, l, LoraTarget.Q_PROJ);
                k = linear(x, l, LoraTarget.K_PROJ);
                v = linear(x, l, LoraTarget.V_PROJ);
            }
            boolean qkNorm = arch.equals("Qwen3ForCausalLM") || arch.equals("Gemma3ForCausalLM");
            double[] freq = inverseFrequencies(t);
            double mscale = attentionFactor();
            if (arch.equals("Gemma3ForCausalLM") && gemmaSliding(l)) {
                // Gemma 3's sliding layers: plain RoPE at rope_local_base_freq, no rope_scaling
                double base = json.path("rope_local_base_freq").asDouble(10000);
                for (int i = 0; i < d / 2; i++) {
                    freq[i] = Math.pow(base, -2.0 * i / d);
                }
                mscale = 1;
            }
            for (int i = 0; i < t; i++) {
                if (qkNorm) {
                    headNorm(q[i], c.heads(), cp.read(p + "self_attn.q_norm.weight").values());
                    headNorm(k[i], c.kvHeads(), cp.read(p + "self_attn.k_norm.weight").values());
                }
                rope(q[i], c.heads(), i, freq, mscale);
                rope(k[i], c.kvHeads(), i, freq, mscale);
            }
            int window = window(l);
            double[][] att = new double[t][c.qDim()];
            int groups = c.heads() / c.kvHeads();
            for (int head = 0; head < c.heads(); head++) {
                int kvh = head / groups;
                for (int i = 0; i < t; i++) {
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    int first = Math.max(0, i - window + 1);
                    for (int j = first; j <= i; j++) {
                        double dot = 0;
                        for (int e = 0; e < d; e++) {
                            dot += q[i][head * d + e] * k[j][kvh * d + e];
                        }
                        s[j] = capped(dot * scoreScale, attnCap);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = first; j <= i; j++) {
                        s[j] = Math.exp(s[j] - max);
                        z += s[j];
                    }
                    for (int j = first; j <= i; j++) {
                        for (int e = 0; e < d; e++) {
                            att[i][head * d + e] += s[j] / z * v[j][kvh * d + e];
                        }
                    }
                }
            }
            double[][] o = linear(att, l, LoraTarget.O_PROJ);
            if (gemma) {
                add(h, norm(o, cp.read(p + "post_attention_layernorm.weight").values()));
                x = norm(h, cp.read(p + "pre_feedforward_layernorm.weight").values());
            } else {
                add(h, o);
                x = norm(h, cp.read(p + "post_attention_layernorm.weight").values());
            }
            double[][] g;
            double[][] u;
            if (phi3) {
                int inter = json.get("intermediate_size").asInt();
                double[][] gu = linear(x, l, "mlp", "gate_up_proj", hdim, 2 * inter, false);
                g = columns(gu, 0, inter);
                u = columns(gu, inter, inter);
            } else {
                g = linear(x, l, LoraTarget.GATE_PROJ);
                u = linear(x, l, LoraTarget.UP_PROJ);
            }
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < g[i].length; j++) {
                    g[i][j] = (gemma ? geluTanh(g[i][j]) : g[i][j] / (1 + Math.exp(-g[i][j]))) * u[i][j];
                }
            }
            double[][] mlp = linear(g, l, LoraTarget.DOWN_PROJ);
            add(h, gemma ? norm(mlp, cp.read(p + "post_feedforward_layernorm.weight").values()) : mlp);
        }
        h = norm(h, cp.read("model.norm.weight").values());
        float[] head = cp.read(c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight").values();
        double[][] logits = matVec(h, head, c.vocabSize(), hdim);
        double finalCap = gemma ? gemmaCap("final_logit_softcapping", 30) : Double.NaN;
        for (double[] row : logits) {
            for (int v = 0; v < row.length; v++) {
                row[v] = capped(row[v], finalCap);
            }
        }
        return logits;
    }

    /** Turns pairs (i, i + r/2) of the first r = rotary dimensions of each head; the others stay as they are. */
    private void rope(double[] x, int heads, int pos, double[] freq, double mscale) {
        int d = c.headDim();
        int r = rotary;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < r / 2; i++) {
                double angle = pos * freq[i];
                double cos = Math.cos(angle) * mscale;
                double sin = Math.sin(angle) * mscale;
                double a = x[h * d + i];
                double b = x[h * d + i + r / 2];
                x[h * d + i] = a * cos - b * sin;
                x[h * d + i + r / 2] = b * cos + a * sin;
            }
        }
    }

    private static double[][] columns(double[][] x, int from, int count) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = Arrays.copyOfRange(x[i], from, from + count);
        }
        return y;
    }

    private double[][] linear(double[][] x, int layer, LoraTarget t) throws IOException {
        return linear(x, layer, t.block(), t.moduleName(), c.inFeatures(t), c.outFeatures(t),
                c.attentionBias() && t != LoraTarget.O_PROJ && t.block().equals("self_attn"));
    }

    /** base(x) + scaling * B A x, the adapter's factors looked up by their PEFT names. */
    private double[][] linear(double[][] x, int layer, String block, String module, int in, int out, boolean biased)
            throws IOException {
        String p = "model.layers." + layer + "." + block + "." + module + ".";
        double[][] y = matVec(x, cp.read(p + "weight").values(), out, in);
        if (biased) {
            float[] b = cp.read(p + "bias").values();
            for (double[] row : y) {
                for (int j = 0; j < out; j++) {
                    row[j] += b[j];
                }
            }
        }
        String peft = "base_model.model." + p;
        FloatTensor a = lora.get(peft + "lora_A.weight");
        if (a != null) {
            FloatTensor b = lora.get(peft + "lora_B.weight");
            double[][] mid = matVec(x, a.values(), a.rows(), in);
            double[][] delta = matVec(mid, b.values(), out, a.rows());
            for (int i = 0; i < y.length; i++) {
                for (int j = 0; j < out; j++) {
                    y[i][j] += scaling * delta[i][j];
                }
            }
        }
        return y;
    }

    private static double[][] matVec(double[][] x, float[] w, int out, int in) {
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int j = 0; j < in; j++) {
                    s += x[i][j] * w[o * in + j];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    private double[][] norm(double[][] x, float[] w) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double v : x[i]) {
                ms += v * v;
            }
            double r = 1 / Math.sqrt(ms / x[i].length + c.rmsNormEps());
            y[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                y[i][j] = x[i][j] * r * ((gemma ? 1 : 0) + w[j]);
            }
        }
        return y;
    }

    private static void add(double[][] h, double[][] d) {
        for (int i = 0; i < h.length; i++) {
            for (int j = 0; j < h[i].length; j++) {
                h[i][j] += d[i][j];
            }
        }
    }
}
