package io.fedtune.trainer.shard;

import io.fedtune.api.v1alpha1.BaseQuantization;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.DataFormat;
import java.util.List;

/**
 * What one shard trains in one round and where its inputs and outputs are, from a contract task or the command line.
 * Every location is a local path or an s3:// URI.
 *
 * @param baseModel     base checkpoint directory or prefix; also named in adapter_config.json, as given
 * @param baseSha256    expected SHA-256 of model.safetensors, or null
 * @param baseFiles     the base model's files with the SHA-256 recorded for each (a task's presigned GETs), or null for
 *                      every file under baseModel, unchecked
 * @param evalData      the shard's eval set, or null to hold out evalFraction of trainData
 * @param evalTask      what evalData measures (LanguageModeling for held-out data)
 * @param evalMetric    the metric reported as evalBefore and evalAfter, or null for the task's default
 * @param evalMaxNewTokens Generation's budget per answer, or null for the default
 * @param globalAdapter the adapter to start from, or null for a fresh seeded one
 * @param globalSha256  the SHA-256 recorded for its adapter_model.safetensors, or null not to check it
 * @param output        where the adapter and manifest go
 * @param steps         optimizer steps, or null to derive them from epochs
 * @param precision     Auto, FP32 or BF16
 * @param inContextExamples demonstrations prepended to each training sequence (data/Demonstrations), 0 for none
 * @param baseQuantization how the base's projection weights are held while training (None, Int8, Int4)
 */
public record TrainingPlan(String shard, int round, String baseModel, String baseSha256,
                           java.util.Map<String, String> baseFiles, String trainData,
                           DataFormat trainFormat, String evalData, DataFormat evalFormat, EvalTask evalTask,
                           EvalMetric evalMetric, Integer evalMaxNewTokens, String globalAdapter,
                           String globalSha256, String output, int rank, double alpha, double dropout, List<LoraTarget> targets,
                           boolean freezeA, Integer steps, Integer epochs, int batchSize, double learningRate,
                           double weightDecay, int maxSequenceLength, String precision, long seed, double proximalMu,
                           double gradientClipNorm, double evalFraction,
                           int inContextExamples, BaseQuantization baseQuantization) {

    /** The metric evalBefore and evalAfter carry: held-out data is LanguageModeling, ranked by its loss. */
    public EvalMetric rankingMetric() {
        EvalTask task = evalData == null || evalTask == null ? EvalTask.LanguageModeling : evalTask;
        EvalMetric metric = evalData != null && evalMetric != null ? evalMetric : task.defaultMetric();
        if (!task.metrics().contains(metric)) {
            throw new IllegalArgumentException("the eval data's task " + task + " reports " + task.metrics() + ", not " + metric);
        }
        return metric;
    }
}
