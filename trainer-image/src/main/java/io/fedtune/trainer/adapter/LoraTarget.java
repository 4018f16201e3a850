package io.fedtune.trainer.adapter;

import java.util.List;
import java.util.Locale;

/**
 * The linear layers of a decoder layer that can carry a LoRA adapter. Phi-3 fuses q, k and v into {@code qkv_proj} and
 * gate and up into {@code gate_up_proj}; a LoRA there adapts the fused matrix, as PEFT does. Which of these a checkpoint
 * has is {@link AdapterShape#modules()}.
 */
public enum LoraTarget {
    Q_PROJ("self_attn"),
    K_PROJ("self_attn"),
    V_PROJ("self_attn"),
    O_PROJ("self_attn"),
    GATE_PROJ("mlp"),
    UP_PROJ("mlp"),
    DOWN_PROJ("mlp"),
    // last, so that the ordinals seeding each module's initial A (LoraParameters) stay as they were
    QKV_PROJ("self_attn"),
    GATE_UP_PROJ("mlp");

    /** The projections of Llama, Mistral and Qwen decoder layers. */
    public static final List<LoraTarget> SEPARATE = List.of(Q_PROJ, K_PROJ, V_PROJ, O_PROJ, GATE_PROJ, UP_PROJ, DOWN_PROJ);
    /** The projections of Phi-3 decoder layers. */
    public static final List<LoraTarget> FUSED = List.of(QKV_PROJ, O_PROJ, GATE_UP_PROJ, DOWN_PROJ);

    private final String block;

    LoraTarget(String block) {
        this.block = block;
    }

    /** The module name as PEFT and Hugging Face write it, e.g. {@code q_proj}. */
    public String moduleName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code self_attn} or {@code mlp}. */
    public String block() {
        return block;
    }

    public static LoraTarget fromModuleName(String module) {
        for (LoraTarget t : values()) {
            if (t.moduleName().equals(module)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown LoRA target module " + module + " (known: " + names(List.of(values())) + ")");
    }

    public static List<String> names(List<LoraTarget> targets) {
        return targets.stream().map(LoraTarget::moduleName).toList();
    }
}
