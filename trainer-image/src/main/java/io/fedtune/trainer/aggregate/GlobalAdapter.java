package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.aggregate.combine.LoraFactors;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The adapter the round started from, held in memory: the reference point of every update (one adapter's worth). */
public record GlobalAdapter(AdapterConfig config, Map<String, float[]> tensors) {

    public static GlobalAdapter read(Path dir) throws IOException {
        AdapterConfig config = AdapterConfig.read(dir);
        Map<String, float[]> tensors = new HashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(dir.resolve(Adapter.WEIGHTS_FILE))) {
            for (String name : reader.names()) {
                tensors.put(name, reader.readFloats(name));
            }
        }
        return new GlobalAdapter(config, tensors);
    }

    public float[] tensor(String name) {
        return tensors.get(name);
    }

    public LoraFactors factors(AdapterLayout.Module m) {
        return new LoraFactors(tensors.get(m.aName()), tensors.get(m.bName()), config.r(), m.in(), m.out(),
                config.scaling());
    }
}
