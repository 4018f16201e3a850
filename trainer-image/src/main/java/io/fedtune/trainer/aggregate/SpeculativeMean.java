package io.fedtune.trainer.aggregate;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The weighted sum of the updates, gathered while they are verified, so the common round (plain FedAvg, every update
 * accepted untouched) reads each adapter once. It is only a guess: if any update is refused or clipped it is dropped
 * and the round combines from the files again, so a refused update never reaches the output. One sum per verification
 * lane, added in lane order, keeps the result independent of thread timing.
 */
final class SpeculativeMean {
    private final List<Map<String, float[]>> lanes;

    SpeculativeMean(int laneCount) {
        this.lanes = new java.util.ArrayList<>();
        for (int i = 0; i < laneCount; i++) {
            lanes.add(new HashMap<>());
        }
    }

    /** Adds weight·values to the lane's sum of this tensor; each lane is used by one thread only. */
    void add(int lane, String tensor, float[] values, double weight) {
        float[] sum = lanes.get(lane).computeIfAbsent(tensor, k -> new float[values.length]);
        float w = (float) weight;
        for (int j = 0; j < sum.length; j++) {
            sum[j] += w * values[j];
        }
    }

    /** The lanes' sums of this tensor divided by the total weight; the tensor's sums are released. */
    float[] mean(String tensor, double totalWeight) {
        float[] out = null;
        for (Map<String, float[]> lane : lanes) {
            float[] sum = lane.remove(tensor);
            if (sum == null) {
                continue;
            }
            if (out == null) {
                out = sum;
            } else {
                for (int j = 0; j < out.length; j++) {
                    out[j] += sum[j];
                }
            }
        }
        float scale = (float) (1.0 / totalWeight);
        for (int j = 0; j < out.length; j++) {
            out[j] *= scale;
        }
        return out;
    }
}
