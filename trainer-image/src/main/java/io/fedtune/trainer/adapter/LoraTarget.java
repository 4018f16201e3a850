package io.fedtune.trainer.adapter;

import java.util.Locale;

/** The linear layers of a Llama-family decoder layer that can carry a LoRA adapter. */
public enum LoraTarget {
    Q_PROJ("self_attn"),
    K_PROJ("self_attn"),
    V_PROJ("self_attn"),
    O_PROJ("self_attn"),
    GATE_PROJ("mlp"),
    UP_PROJ("mlp"),
    DOWN_PROJ("mlp");

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
        throw new IllegalArgumentException("unknown LoRA target module " + module
                + " (known: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
    }
}
