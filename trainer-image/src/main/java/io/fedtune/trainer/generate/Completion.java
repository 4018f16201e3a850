package io.fedtune.trainer.generate;

/** One prompt's result: the generated ids (a final EOS included), their text (null without a tokenizer), why it ended. */
public record Completion(int[] tokens, String text, StopReason stopReason) {
}
