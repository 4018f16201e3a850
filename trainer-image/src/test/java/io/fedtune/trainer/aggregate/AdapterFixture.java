package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.storage.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** Writes small random adapters in the PEFT layout, with a trainer-style manifest.json, for the aggregator's tests. */
final class AdapterFixture {
    static final List<LoraTarget> TARGETS = List.of(LoraTarget.Q_PROJ, LoraTarget.V_PROJ);
    static final int LAYERS = 2;
    static final int HIDDEN = 12;
    static final int KV = 6;

    static AdapterLayout layout() {
        return AdapterLayout.of(new io.fedtune.trainer.adapter.AdapterShape() {
            public int layers() {
                return LAYERS;
            }

            public int inFeatures(LoraTarget target) {
                return HIDDEN;
            }

            public int outFeatures(LoraTarget target) {
                return target == LoraTarget.V_PROJ ? KV : HIDDEN;
            }
        }, TARGETS);
    }

    static Map<String, float[]> random(AdapterLayout layout, int rank, long seed) {
        Random random = new Random(seed);
        Map<String, float[]> t = new TreeMap<>();
        for (AdapterLayout.Module m : layout.modules()) {
            float[] a = new float[rank * m.in()];
            float[] b = new float[m.out() * rank];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) random.nextGaussian() * 0.1f;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) random.nextGaussian() * 0.1f;
            }
            t.put(m.aName(), a);
            t.put(m.bName(), b);
        }
        return t;
    }

    /** Writes the adapter and a manifest listing its SHA-256; returns that SHA-256. */
    static String write(Path dir, AdapterLayout layout, int rank, double alpha, Map<String, float[]> tensors) throws IOException {
        Files.createDirectories(dir);
        new AdapterConfig(rank, alpha, 0.0, TARGETS, "base").write(dir);
        Map<String, FloatTensor> out = new TreeMap<>();
        for (AdapterLayout.Module m : layout.modules()) {
            float[] a = tensors.get(m.aName());
            float[] b = tensors.get(m.bName());
            out.put(m.aName(), FloatTensor.f32(a, a.length / m.in(), m.in()));
            out.put(m.bName(), FloatTensor.f32(b, m.out(), b.length / m.out()));
        }
        SafetensorsWriter.write(dir.resolve(Adapter.WEIGHTS_FILE), out, Map.of("format", "pt"));
        return rewriteManifest(dir);
    }

    static String rewriteManifest(Path dir) throws IOException {
        String sha = Sha256.of(dir.resolve(Adapter.WEIGHTS_FILE));
        Files.writeString(dir.resolve("manifest.json"), "{\"files\":{\"" + Adapter.WEIGHTS_FILE + "\":\"" + sha + "\"}}",
                StandardCharsets.UTF_8);
        return sha;
    }

    private AdapterFixture() {
    }
}
