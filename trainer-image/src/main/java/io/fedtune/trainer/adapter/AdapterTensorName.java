package io.fedtune.trainer.adapter;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LoRA factor's tensor name in the PEFT layout:
 * {@code base_model.model.model.layers.<i>.<self_attn|mlp>.<module>.lora_<A|B>.weight}.
 */
public record AdapterTensorName(int layer, LoraTarget target, Factor factor) {
    private static final Pattern NAME = Pattern.compile(
            "base_model\\.model\\.model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.([a-z_]+)\\.lora_([AB])\\.weight");

    /** A is [r, in], B is [out, r]. */
    public enum Factor { A, B }

    public static String of(int layer, LoraTarget target, Factor factor) {
        return new AdapterTensorName(layer, target, factor).toString();
    }

    public static AdapterTensorName parse(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a PEFT LoRA tensor name: " + name);
        }
        LoraTarget target = LoraTarget.fromModuleName(m.group(3));
        if (!target.block().equals(m.group(2))) {
            throw new IllegalArgumentException(name + ": " + target.moduleName() + " belongs under " + target.block());
        }
        return new AdapterTensorName(Integer.parseInt(m.group(1)), target, Factor.valueOf(m.group(4)));
    }

    @Override
    public String toString() {
        return "base_model.model.model.layers." + layer + "." + target.block() + "." + target.moduleName()
                + ".lora_" + factor + ".weight";
    }
}
