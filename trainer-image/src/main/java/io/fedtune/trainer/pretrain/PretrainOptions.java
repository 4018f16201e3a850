package io.fedtune.trainer.pretrain;

/** Shape of the base model to make and how long to train it. */
public record PretrainOptions(int vocabSize, int hiddenSize, int layers, int heads, int kvHeads, int intermediateSize,
                              int sequenceLength, int steps, int batchSize, double learningRate, long seed,
                              String architecture, boolean tieEmbeddings) {
}
