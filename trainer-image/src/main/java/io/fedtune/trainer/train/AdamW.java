package io.fedtune.trainer.train;

import java.util.HashMap;
import java.util.Map;

/** AdamW with decoupled weight decay over named float vectors; runs in Java so results are exact to the bit. */
public final class AdamW {
    private final double learningRate;
    private final double weightDecay;
    private final double beta1 = 0.9;
    private final double beta2 = 0.999;
    private final double eps = 1e-8;
    private final Map<String, float[]> m = new HashMap<>();
    private final Map<String, float[]> v = new HashMap<>();
    private int step;

    public AdamW(double learningRate, double weightDecay) {
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
    }

    /** Call once per step before the parameter updates of that step. */
    public void beginStep() {
        step++;
    }

    public void update(String name, float[] param, float[] grad) {
        update(name, param, grad, 1.0);
    }

    /** One update with the learning rate multiplied by lrScale (for schedules). */
    public void update(String name, float[] param, float[] grad, double lrScale) {
        double lr = learningRate * lrScale;
        float[] mm = m.computeIfAbsent(name, k -> new float[param.length]);
        float[] vv = v.computeIfAbsent(name, k -> new float[param.length]);
        double c1 = 1 - Math.pow(beta1, step);
        double c2 = 1 - Math.pow(beta2, step);
        for (int i = 0; i < param.length; i++) {
            mm[i] = (float) (beta1 * mm[i] + (1 - beta1) * grad[i]);
            vv[i] = (float) (beta2 * vv[i] + (1 - beta2) * grad[i] * grad[i]);
            double update = (mm[i] / c1) / (Math.sqrt(vv[i] / c2) + eps);
            param[i] = (float) (param[i] - lr * (update + weightDecay * param[i]));
        }
    }
}
