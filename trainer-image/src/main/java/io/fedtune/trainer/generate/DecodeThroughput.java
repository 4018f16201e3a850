package io.fedtune.trainer.generate;

import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;

import java.util.SplittableRandom;

/** Greedy decoding speed, new tokens per second, with the KV cache and by recomputation, on the same prompts. */
public final class DecodeThroughput {
    private DecodeThroughput() {
    }

    public record Result(int promptTokens, int newTokens, int prompts, double cachedTokensPerSecond,
                         double recomputeTokensPerSecond) {
        public double speedup() {
            return cachedTokensPerSecond / recomputeTokensPerSecond;
        }
    }

    /** Random prompt ids; every prompt runs to newTokens (no EOS). One unmeasured prompt per mode warms up. */
    public static Result measure(LlamaModel model, LoraArrays lora, int promptTokens, int newTokens, int prompts) {
        SplittableRandom r = new SplittableRandom(0);
        int[][] ids = new int[prompts + 1][promptTokens];
        for (int[] p : ids) {
            for (int i = 0; i < p.length; i++) {
                p[i] = r.nextInt(model.config().vocabSize());
            }
        }
        return new Result(promptTokens, newTokens, prompts, rate(model, lora, Decoder.Mode.CACHED, ids, newTokens),
                rate(model, lora, Decoder.Mode.RECOMPUTE, ids, newTokens));
    }

    private static double rate(LlamaModel model, LoraArrays lora, Decoder.Mode mode, int[][] prompts, int newTokens) {
        Decoder decoder = new Decoder(model, lora, mode);
        StopRule stop = StopRule.maxNewTokens(newTokens);
        decoder.run(prompts[0], Sampling.greedy(), null, stop);
        long tokens = 0;
        long start = System.nanoTime();
        for (int i = 1; i < prompts.length; i++) {
            tokens += decoder.run(prompts[i], Sampling.greedy(), null, stop).tokens().length;
        }
        return tokens / ((System.nanoTime() - start) / 1e9);
    }
}
