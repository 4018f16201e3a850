package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.adapter.AdapterShape;
import io.fedtune.trainer.adapter.AdapterTensorName;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.TensorInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The adapted modules a round's adapters must carry, in tensor-name order, with each module's in and out features. */
public record AdapterLayout(List<Module> modules) {

    /**
     * One adapted linear layer: its A [r, in] and B [out, r] tensor names. equals and hashCode are written out here and
     * in the layout because the generated record methods take tens of milliseconds to bootstrap in a fresh JVM, which
     * the aggregation CLI always is, and layouts are compared before any update is read.
     */
    public record Module(String aName, String bName, int in, int out) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Module m && aName.equals(m.aName) && bName.equals(m.bName) && in == m.in && out == m.out;
        }

        @Override
        public int hashCode() {
            return (aName.hashCode() * 31 + bName.hashCode()) * 31 + in * 17 + out;
        }
    }

    public AdapterLayout {
        modules = modules.stream().sorted(Comparator.comparing(Module::aName)).toList();
    }

    /** From the base model: every target module of every layer. */
    public static AdapterLayout of(AdapterShape model, Collection<LoraTarget> targets) {
        List<Module> modules = new ArrayList<>();
        for (int layer = 0; layer < model.layers(); layer++) {
            for (LoraTarget t : targets) {
                modules.add(new Module(AdapterTensorName.of(layer, t, AdapterTensorName.Factor.A),
                        AdapterTensorName.of(layer, t, AdapterTensorName.Factor.B), model.inFeatures(t), model.outFeatures(t)));
            }
        }
        return new AdapterLayout(modules);
    }

    /** From an adapter taken as the reference (the previous global one), when the base model's config is not at hand. */
    public static AdapterLayout of(SafetensorsReader adapter) throws IOException {
        Map<String, Module> modules = new LinkedHashMap<>();
        for (String name : adapter.names()) {
            AdapterTensorName parsed = AdapterTensorName.parse(name);
            if (parsed.factor() != AdapterTensorName.Factor.A) {
                continue;
            }
            String bName = AdapterTensorName.of(parsed.layer(), parsed.target(), AdapterTensorName.Factor.B);
            TensorInfo a = adapter.info(name);
            TensorInfo b = adapter.info(bName);
            modules.put(name, new Module(name, bName, (int) a.shape()[1], (int) b.shape()[0]));
        }
        return new AdapterLayout(new ArrayList<>(modules.values()));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AdapterLayout l && modules.equals(l.modules);
    }

    @Override
    public int hashCode() {
        return modules.hashCode();
    }

    public int tensorCount() {
        return 2 * modules.size();
    }

    /** Floats in one adapter of this layout at rank r. */
    public long floats(int rank) {
        long n = 0;
        for (Module m : modules) {
            n += (long) rank * (m.in() + m.out());
        }
        return n;
    }
}
