package io.fedtune.trainer.round;

import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.DataFormat;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything one shard's round needs, already on local disk.
 *
 * @param evalData      the shard's eval set, or null to hold out evalFraction of trainData
 * @param globalAdapter the adapter to start from, or null for a fresh seeded one
 * @param steps         optimizer steps, or null to derive them from epochs
 * @param precision     Auto, FP32 or BF16
 * @param baseModel     the base model as the caller named it (s3:// URI or path), for adapter_config.json
 */
public record RoundInputs(String shard, int round, Path checkpoint, Path trainData, DataFormat trainFormat,
                          Path evalData, DataFormat evalFormat, Path globalAdapter, int rank, double alpha,
                          double dropout, List<LoraTarget> targets, boolean freezeA, Integer steps, Integer epochs,
                          int batchSize, double learningRate, double weightDecay, int maxSequenceLength,
                          String precision, long seed, double proximalMu, double gradientClipNorm,
                          double evalFraction, String baseModel) {
}
