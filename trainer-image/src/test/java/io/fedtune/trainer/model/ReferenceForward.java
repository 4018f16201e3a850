package io.fedtune.trainer.model;

import io.fedtune.trainer.adapter.AdapterTensorName;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.FloatTensor;

import java.io.IOException;
import java.util.Map;

/** The decoder's forward pass in plain loops and doubles, written from the Llama/Qwen2 definitions, for checking LlamaModel. */
public final class ReferenceForward {
    private final Checkpoint cp;
    private final ModelConfig c;
    private final Map<String, FloatTensor> lora;
    private final double scaling;

    public ReferenceForward(Checkpoint cp, Map<String, FloatTensor> lora, double scaling) {
        this.cp = cp;
        this.c = cp.config();
        this.lora = lora;
        this.scaling = scaling;
    }

    /** logits [time][vocab] for one sequence. */
    public double[][] logits(int[] ids) throws IOException {
        int t = ids.length;
        int hdim = c.hiddenSize();
        float[] emb = cp.read("model.embed_tokens.weight").values();
        double[][] h = new double[t][hdim];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < hdim; j++) {
                h[i][j] = emb[ids[i] * hdim + j];
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] x = norm(h, cp.read(p + "input_layernorm.weight").values());
            double[][] q = linear(x, l, LoraTarget.Q_PROJ);
            double[][] k = linear(x, l, LoraTarget.K_PROJ);
            double[][] v = linear(x, l, LoraTarget.V_PROJ);
            int d = c.headDim();
            for (int i = 0; i < t; i++) {
                rope(q[i], c.heads(), i);
                rope(k[i], c.kvHeads(), i);
            }
            double[][] att = new double[t][c.qDim()];
            int groups = c.heads() / c.kvHeads();
            for (int head = 0; head < c.heads(); head++) {
                int kvh = head / groups;
                for (int i = 0; i < t; i++) {
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int e = 0; e < d; e++) {
                            dot += q[i][head * d + e] * k[j][kvh * d + e];
                        }
                        s[j] = dot / Math.sqrt(d);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= i; j++) {
                        s[j] = Math.exp(s[j] - max);
                        z += s[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < d; e++) {
                            att[i][head * d + e] += s[j] / z * v[j][kvh * d + e];
                        }
                    }
                }
            }
            add(h, linear(att, l, LoraTarget.O_PROJ));
            x = norm(h, cp.read(p + "post_attention_layernorm.weight").values());
            double[][] g = linear(x, l, LoraTarget.GATE_PROJ);
            double[][] u = linear(x, l, LoraTarget.UP_PROJ);
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < g[i].length; j++) {
                    g[i][j] = g[i][j] / (1 + Math.exp(-g[i][j])) * u[i][j];
                }
            }
            add(h, linear(g, l, LoraTarget.DOWN_PROJ));
        }
        h = norm(h, cp.read("model.norm.weight").values());
        float[] head = cp.read(c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight").values();
        return matVec(h, head, c.vocabSize(), hdim);
    }

    private void rope(double[] x, int heads, int pos) {
        int d = c.headDim();
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < d / 2; i++) {
                double angle = pos / Math.pow(c.ropeTheta(), 2.0 * i / d);
                double a = x[h * d + i];
                double b = x[h * d + i + d / 2];
                x[h * d + i] = a * Math.cos(angle) - b * Math.sin(angle);
                x[h * d + i + d / 2] = b * Math.cos(angle) + a * Math.sin(angle);
            }
        }
    }

    private double[][] linear(double[][] x, int layer, LoraTarget t) throws IOException {
        String p = "model.layers." + layer + "." + t.block() + "." + t.moduleName() + ".";
        int in = c.inFeatures(t);
        int out = c.outFeatures(t);
        double[][] y = matVec(x, cp.read(p + "weight").values(), out, in);
        if (c.attentionBias() && t.block().equals("self_attn") && t != LoraTarget.O_PROJ) {
            float[] b = cp.read(p + "bias").values();
            for (double[] row : y) {
                for (int j = 0; j < out; j++) {
                    row[j] += b[j];
                }
            }
        }
        FloatTensor a = lora.get(AdapterTensorName.of(layer, t, AdapterTensorName.Factor.A));
        if (a != null) {
            FloatTensor b = lora.get(AdapterTensorName.of(layer, t, AdapterTensorName.Factor.B));
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
                y[i][j] = x[i][j] * r * w[j];
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
