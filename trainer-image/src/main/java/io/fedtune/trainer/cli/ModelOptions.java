package io.fedtune.trainer.cli;

import io.fedtune.api.v1alpha1.BaseQuantization;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.storage.StorageSession;
import io.fedtune.trainer.train.LoraParameters;
import picocli.CommandLine.Option;

import java.io.IOException;

/** The base model, optional adapter and precision of the commands that run a model by hand (evaluate, generate). */
final class ModelOptions {
    @Option(names = "--base", required = true, description = "base checkpoint directory or s3:// prefix") String base;
    @Option(names = "--adapter", description = "adapter directory or s3:// prefix (PEFT layout); without it the base alone") String adapter;
    @Option(names = "--precision", defaultValue = "Auto", description = "Auto (bf16 on GPU, fp32 on CPU), FP32 or BF16") String precision;
    @Option(names = "--base-quantization", defaultValue = "None", description = "None, Int8 or Int4: the base's projection "
            + "weights held quantized, as training over a quantized base sees them (default ${DEFAULT-VALUE})")
    BaseQuantization baseQuantization;

    /** The device is chosen before anything is fetched, so a pod without its GPU fails at once. */
    BaseModel open(StorageSession storage, Environment env) throws IOException {
        Placement placement = Placement.of(precision, env.device()).quantized(baseQuantization);
        return BaseModel.open(storage.checkpoint(base, null).dir(), placement);
    }

    /** The adapter checked against the model, or null without --adapter. */
    LoraParameters adapter(StorageSession storage, BaseModel model) throws IOException {
        return adapter == null ? null : LoraParameters.from(Adapter.read(storage.fetchDirectory(adapter)), model.config());
    }
}
