package io.fedtune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;

import java.util.List;

/** Mean loss per token of the model (with an optional adapter) over a set of sequences. */
public final class Evaluation {
    private Evaluation() {
    }

    public record Result(double meanLoss, long tokens) {
        public double perplexity() {
            return Math.exp(meanLoss);
        }
    }

    public static Result run(LlamaModel model, LoraParameters adapter, List<TokenSequence> sequences, int batchSize) {
        double total = 0;
        long tokens = 0;
        for (int i = 0; i < sequences.size(); i += batchSize) {
            TokenBatch batch = TokenBatch.of(sequences.subList(i, Math.min(sequences.size(), i + batchSize)));
            if (batch.lossTokens() == 0) {
                continue;
            }
            try (NDManager step = model.manager().newSubManager()) {
                LoraArrays lora = adapter == null ? null : adapter.arrays(step, false, false);
                NDArray logits = model.logits(batch.inputs(step), lora);
                total += batch.summedLoss(logits, step).getFloat();
                tokens += batch.lossTokens();
            }
        }
        return new Result(tokens == 0 ? Double.NaN : total / tokens, tokens);
    }
}
