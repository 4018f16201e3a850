package io.fedtune.trainer.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code adapter_config.json} in the PEFT layout, with the fields PEFT and vLLM read. */
public record AdapterConfig(int r, double loraAlpha, double loraDropout, List<LoraTarget> targetModules,
                            String baseModelNameOrPath) {
    public static final String FILE = io.fedtune.api.contract.ObjectLayout.ADAPTER_CONFIG;
    /** The largest adapter_config.json read: real ones are under 1 KB. */
    public static final long CAP = io.fedtune.trainer.storage.SmallFile.MiB;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public AdapterConfig {
        if (r < 1) {
            throw new IllegalArgumentException("LoRA rank must be >= 1, got " + r);
        }
        if (targetModules.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module");
        }
        // canonical order keeps the written bytes independent of how the caller listed them
        targetModules = targetModules.stream().distinct().sorted().toList();
    }

    public double scaling() {
        return loraAlpha / r;
    }

    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("base_model_name_or_path", baseModelNameOrPath);
        n.put("bias", "none");
        n.put("fan_in_fan_out", false);
        n.put("inference_mode", true);
        n.put("lora_alpha", loraAlpha);
        n.put("lora_dropout", loraDropout);
        n.put("peft_type", "LORA");
        n.put("r", r);
        targetModules.forEach(t -> n.withArray("target_modules").add(t.moduleName()));
        n.put("task_type", "CAUSAL_LM");
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), toJson(), StandardCharsets.UTF_8);
    }

    public static AdapterConfig read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new AdapterMismatchException("adapter has no " + FILE + " in " + dir);
        }
        try {
            return parse(io.fedtune.trainer.storage.SmallFile.readString(file, CAP));
        } catch (io.fedtune.trainer.storage.SmallFile.TooLarge e) {
            throw new AdapterMismatchException(e.getMessage());
        }
    }

    public static AdapterConfig parse(String json) throws AdapterMismatchException {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (IOException e) {
            throw new AdapterMismatchException(FILE + " is not valid JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new AdapterMismatchException(FILE + " is not a JSON object");
        }
        if (!"LORA".equals(n.path("peft_type").asText())) {
            throw new AdapterMismatchException(FILE + ": peft_type must be LORA, got " + n.path("peft_type"));
        }
        if (!n.path("r").canConvertToInt() || n.path("r").asInt() < 1) {
            throw new AdapterMismatchException(FILE + ": r must be a positive integer, got " + n.path("r"));
        }
        if (n.path("fan_in_fan_out").asBoolean(false)) {
            throw new AdapterMismatchException(FILE + ": fan_in_fan_out adapters are not supported");
        }
        List<LoraTarget> targets = new ArrayList<>();
        for (JsonNode t : n.path("target_modules")) {
            try {
                targets.add(LoraTarget.fromModuleName(t.asText()));
            } catch (IllegalArgumentException e) {
                throw new AdapterMismatchException(FILE + ": " + e.getMessage());
            }
        }
        if (targets.isEmpty()) {
            throw new AdapterMismatchException(FILE + ": target_modules must list at least one module");
        }
        int r = n.get("r").asInt();
        return new AdapterConfig(r, n.path("lora_alpha").asDouble(r), n.path("lora_dropout").asDouble(0),
                targets, n.path("base_model_name_or_path").isTextual() ? n.get("base_model_name_or_path").asText() : null);
    }
}
