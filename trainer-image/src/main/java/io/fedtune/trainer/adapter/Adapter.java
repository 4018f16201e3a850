package io.fedtune.trainer.adapter;

import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.safetensors.SafetensorsFormatException;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** A LoRA adapter in the PEFT layout: its config and its factor tensors by PEFT name. */
public record Adapter(AdapterConfig config, Map<String, FloatTensor> tensors) {
    public static final String WEIGHTS_FILE = io.fedtune.api.contract.ObjectLayout.ADAPTER_WEIGHTS;

    public Adapter {
        tensors = Collections.unmodifiableMap(new TreeMap<>(tensors));
    }

    public FloatTensor tensor(int layer, LoraTarget target, AdapterTensorName.Factor factor) {
        return tensors.get(AdapterTensorName.of(layer, target, factor));
    }

    /** Writes adapter_config.json and adapter_model.safetensors into dir (created if needed). */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        config.write(dir);
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
    }

    /** Reads an adapter and checks its tensors are exactly the factors its config declares, with consistent ranks. */
    public static Adapter read(Path dir) throws IOException {
        AdapterConfig config = AdapterConfig.read(dir);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new AdapterMismatchException("adapter has no " + WEIGHTS_FILE + " in " + dir);
        }
        Map<String, FloatTensor> tensors;
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            tensors = reader.readAll();
        } catch (SafetensorsFormatException e) {
            throw new AdapterMismatchException("adapter weights are corrupt: " + e.getMessage());
        }
        Adapter adapter = new Adapter(config, tensors);
        adapter.checkConsistent();
        return adapter;
    }

    /** Checks names and ranks without a base model: every tensor a PEFT LoRA factor of a declared module, ranks equal to r, A and B paired. */
    public void checkConsistent() throws AdapterMismatchException {
        for (Map.Entry<String, FloatTensor> e : tensors.entrySet()) {
            AdapterTensorName name;
            try {
                name = AdapterTensorName.parse(e.getKey());
            } catch (IllegalArgumentException ex) {
                throw new AdapterMismatchException(ex.getMessage());
            }
            if (!config.targetModules().contains(name.target())) {
                throw new AdapterMismatchException("tensor " + e.getKey() + " is for " + name.target().moduleName()
                        + ", which adapter_config.json does not list in target_modules " + config.targetModules());
            }
            long[] shape = e.getValue().shape();
            if (shape.length != 2) {
                throw new AdapterMismatchException("tensor " + e.getKey() + " has shape " + Arrays.toString(shape)
                        + "; LoRA factors are 2-D");
            }
            long rank = name.factor() == AdapterTensorName.Factor.A ? shape[0] : shape[1];
            if (rank != config.r()) {
                throw new AdapterMismatchException("tensor " + e.getKey() + " has rank " + rank + " (shape "
                        + Arrays.toString(shape) + ") but adapter_config.json says r=" + config.r());
            }
            AdapterTensorName.Factor other = name.factor() == AdapterTensorName.Factor.A
                    ? AdapterTensorName.Factor.B : AdapterTensorName.Factor.A;
            if (!tensors.containsKey(AdapterTensorName.of(name.layer(), name.target(), other))) {
                throw new AdapterMismatchException("tensor " + e.getKey() + " has no matching lora_" + other);
            }
        }
    }

    /** Checks this adapter covers every target module of every layer of the model with the right shapes. */
    public void checkFits(AdapterShape model) throws AdapterMismatchException {
        checkConsistent();
        for (LoraTarget t : config.targetModules()) {
            if (!model.modules().contains(t)) {
                throw new AdapterMismatchException("adapter targets " + t.moduleName() + ", which the model does not have (its modules: "
                        + LoraTarget.names(model.modules()) + ")");
            }
        }
        int expected = 0;
        for (int layer = 0; layer < model.layers(); layer++) {
            for (LoraTarget t : config.targetModules()) {
                expectShape(AdapterTensorName.of(layer, t, AdapterTensorName.Factor.A), config.r(), model.inFeatures(t));
                expectShape(AdapterTensorName.of(layer, t, AdapterTensorName.Factor.B), model.outFeatures(t), config.r());
                expected += 2;
            }
        }
        if (tensors.size() != expected) {
            throw new AdapterMismatchException("adapter has " + tensors.size() + " tensors; the model with "
                    + model.layers() + " layers and targets " + config.targetModules() + " needs " + expected);
        }
    }

    private void expectShape(String name, long rows, long cols) throws AdapterMismatchException {
        FloatTensor t = tensors.get(name);
        if (t == null) {
            throw new AdapterMismatchException("adapter lacks tensor " + name);
        }
        if (t.shape().length != 2 || t.shape()[0] != rows || t.shape()[1] != cols) {
            throw new AdapterMismatchException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", the model needs [" + rows + ", " + cols + "]");
        }
    }
}
