package io.fedtune.trainer.aggregate;

import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.Dtype;
import io.fedtune.trainer.safetensors.TensorSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** The new global adapter's shape: its tensors at the run's rank, its adapter_config.json, its safetensors metadata. */
public final class GlobalOutput {
    public static final Map<String, String> METADATA = Map.of("format", "pt");

    private GlobalOutput() {
    }

    /** Every A [r, in] and B [out, r] of the layout, in name order (the order they are written in). */
    public static List<TensorSpec> tensors(AdapterLayout layout, int rank) {
        List<TensorSpec> specs = new ArrayList<>();
        for (AdapterLayout.Module m : layout.modules()) {
            specs.add(new TensorSpec(m.aName(), Dtype.F32, new long[] {rank, m.in()}));
            specs.add(new TensorSpec(m.bName(), Dtype.F32, new long[] {m.out(), rank}));
        }
        specs.sort(Comparator.comparing(TensorSpec::name));
        return specs;
    }

    public static AdapterConfig config(LoraSpec lora, GlobalAdapter previous) {
        List<LoraTarget> targets = new ArrayList<>();
        for (TargetModule t : lora.targetModules) {
            targets.add(LoraTarget.fromModuleName(t.moduleName()));
        }
        return new AdapterConfig(lora.rank, lora.alpha, lora.dropout, targets,
                previous == null ? null : previous.config().baseModelNameOrPath());
    }
}
