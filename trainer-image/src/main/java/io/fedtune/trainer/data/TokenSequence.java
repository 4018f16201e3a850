package io.fedtune.trainer.data;

/**
 * One training sequence: token ids, and for each token whether predicting it counts toward the loss
 * (false for prompts, user turns and the leading BOS).
 */
public record TokenSequence(int[] tokens, boolean[] loss) {
    public TokenSequence {
        if (tokens.length != loss.length) {
            throw new IllegalArgumentException("tokens and loss mask differ in length");
        }
    }

    public int length() {
        return tokens.length;
    }

    /** Tokens whose prediction counts, excluding the first (nothing predicts it). */
    public int lossTokens() {
        int n = 0;
        for (int i = 1; i < loss.length; i++) {
            n += loss[i] ? 1 : 0;
        }
        return n;
    }
}
