package io.fedtune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.Scalars;

import java.util.List;

/** Sequences padded on the right into inputs, next-token targets and a loss mask, [batch, time]. */
public record TokenBatch(int batch, int time, long[] inputs, long[] targets, float[] mask) {

    public static TokenBatch of(List<TokenSequence> sequences) {
        int time = 1;
        for (TokenSequence s : sequences) {
            time = Math.max(time, s.length() - 1);
        }
        int batch = sequences.size();
        long[] inputs = new long[batch * time];
        long[] targets = new long[batch * time];
        float[] mask = new float[batch * time];
        for (int b = 0; b < batch; b++) {
            TokenSequence s = sequences.get(b);
            for (int t = 0; t + 1 < s.length(); t++) {
                inputs[b * time + t] = s.tokens()[t];
                targets[b * time + t] = s.tokens()[t + 1];
                mask[b * time + t] = s.loss()[t + 1] ? 1f : 0f;
            }
        }
        return new TokenBatch(batch, time, inputs, targets, mask);
    }

    public long lossTokens() {
        long n = 0;
        for (float m : mask) {
            n += m > 0 ? 1 : 0;
        }
        return n;
    }

    NDArray inputs(NDManager m) {
        return m.create(inputs, new Shape(batch, time));
    }

    /**
     * Summed negative log-likelihood of the masked targets (a scalar); divide by {@link #lossTokens()} for the mean.
     * Closes logits, and its log-softmax, once the targets' entries are picked: they are a step's largest arrays, and
     * backward keeps the one it needs itself.
     */
    NDArray summedLoss(NDArray logits, NDManager m) {
        NDArray target = m.create(targets, new Shape(batch, time, 1));
        NDArray picked;
        try (logits; NDArray logProbs = logits.logSoftmax(-1)) {
            picked = logProbs.gather(target, 2).reshape(batch, time);
        }
        return picked.mul(m.create(mask, new Shape(batch, time))).sum().neg();
    }

    /** Mean negative log-likelihood over the masked targets (a scalar); closes logits as {@link #summedLoss} does. */
    NDArray meanLoss(NDArray logits, NDManager m) {
        return Scalars.div(summedLoss(logits, m), lossTokens());
    }
}
