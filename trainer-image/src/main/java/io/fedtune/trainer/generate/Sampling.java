package io.fedtune.trainer.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * How the next token is picked from the last position's logits: greedy (temperature 0: the first highest logit), or
 * drawn from softmax(logits / temperature) restricted to the smallest set of most likely tokens whose probability
 * reaches topP (nucleus sampling), with a seeded generator so the same seed gives the same text.
 */
public record Sampling(double temperature, double topP, long seed) {
    public Sampling {
        if (temperature < 0 || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("temperature must be >= 0 and top-p in (0, 1], got " + temperature + " and " + topP);
        }
    }

    public static Sampling greedy() {
        return new Sampling(0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** The generator for one prompt: seeded by the seed and the prompt's index, so prompts do not share a stream. */
    public SplittableRandom random(int prompt) {
        return new SplittableRandom(seed * 1_000_003L + prompt);
    }

    public int next(float[] logits, SplittableRandom random) {
        if (isGreedy()) {
            return argmax(logits);
        }
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // stable: ties keep the lower id first, as argmax does
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        double max = logits[order[0]];
        double[] p = new double[order.length];
        double z = 0;
        for (int i = 0; i < order.length; i++) {
            p[i] = Math.exp((logits[order[i]] - max) / temperature);
            z += p[i];
        }
        int kept = 0;
        double mass = 0;
        while (kept < order.length && (kept == 0 || mass < topP)) {
            mass += p[kept] / z;
            kept++;
        }
        double u = random.nextDouble() * mass * z;
        for (int i = 0; i < kept; i++) {
            u -= p[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[kept - 1];
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
