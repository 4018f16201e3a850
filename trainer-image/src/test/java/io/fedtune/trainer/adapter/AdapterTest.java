package io.fedtune.trainer.adapter;

import io.fedtune.trainer.safetensors.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.fedtune.trainer.adapter.AdapterTensorName.Factor.A;
import static io.fedtune.trainer.adapter.AdapterTensorName.Factor.B;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdapterTest {
    @TempDir
    Path dir;

    /** hidden 8, q/o 8x8, k/v out 4 (grouped-query), mlp 8 -> 12 -> 8. */
    private final AdapterShape model = new AdapterShape() {
        public int layers() {
            return 2;
        }

        public int inFeatures(LoraTarget t) {
            return t == LoraTarget.DOWN_PROJ ? 12 : 8;
        }

        public int outFeatures(LoraTarget t) {
            return switch (t) {
                case K_PROJ, V_PROJ -> 4;
                case GATE_PROJ, UP_PROJ -> 12;
                default -> 8;
            };
        }
    };

    @Test
    void namesFollowThePeftLayout() {
        assertThat(AdapterTensorName.of(3, LoraTarget.Q_PROJ, A))
                .isEqualTo("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight");
        assertThat(AdapterTensorName.of(0, LoraTarget.GATE_PROJ, B))
                .isEqualTo("base_model.model.model.layers.0.mlp.gate_proj.lora_B.weight");
        assertThat(AdapterTensorName.parse("base_model.model.model.layers.11.mlp.down_proj.lora_A.weight"))
                .isEqualTo(new AdapterTensorName(11, LoraTarget.DOWN_PROJ, A));
        assertThatThrownBy(() -> AdapterTensorName.parse("base_model.model.model.layers.0.mlp.q_proj.lora_A.weight"))
                .hasMessageContaining("belongs under self_attn");
    }

    @Test
    void writesPeftConfigAndReadsTheAdapterBack() throws IOException {
        Adapter adapter = adapter(4, List.of(LoraTarget.V_PROJ, LoraTarget.Q_PROJ, LoraTarget.DOWN_PROJ), 4);
        adapter.write(dir);

        String json = Files.readString(dir.resolve("adapter_config.json"));
        assertThat(json).contains("\"peft_type\" : \"LORA\"", "\"task_type\" : \"CAUSAL_LM\"", "\"bias\" : \"none\"",
                "\"fan_in_fan_out\" : false", "\"r\" : 4", "\"lora_alpha\" : 8.0");
        Adapter back = Adapter.read(dir);
        assertThat(back.config()).isEqualTo(adapter.config());
        assertThat(back.config().targetModules()).containsExactly(LoraTarget.Q_PROJ, LoraTarget.V_PROJ, LoraTarget.DOWN_PROJ);
        assertThat(back.tensors()).isEqualTo(adapter.tensors());
        back.checkFits(model);
    }

    @Test
    void refusesAdaptersOfTheWrongRankOrShape() throws IOException {
        Adapter rank4 = adapter(4, List.of(LoraTarget.Q_PROJ), 4);
        AdapterConfig says8 = new AdapterConfig(8, 16, 0, List.of(LoraTarget.Q_PROJ), "base");
        assertThatThrownBy(() -> new Adapter(says8, rank4.tensors()).checkConsistent())
                .isInstanceOf(AdapterMismatchException.class).hasMessageContaining("r=8");

        AdapterShape wider = new AdapterShape() {
            public int layers() {
                return 2;
            }

            public int inFeatures(LoraTarget t) {
                return 16;
            }

            public int outFeatures(LoraTarget t) {
                return 16;
            }
        };
        assertThatThrownBy(() -> rank4.checkFits(wider)).hasMessageContaining("the model needs [4, 16]");

        Map<String, FloatTensor> missingB = new TreeMap<>(rank4.tensors());
        missingB.remove(AdapterTensorName.of(1, LoraTarget.Q_PROJ, B));
        assertThatThrownBy(() -> new Adapter(rank4.config(), missingB).checkConsistent())
                .hasMessageContaining("no matching lora_B");

        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\":\"PREFIX_TUNING\"}");
        assertThatThrownBy(() -> Adapter.read(dir)).hasMessageContaining("peft_type must be LORA");
    }

    private Adapter adapter(int r, List<LoraTarget> targets, int realRank) {
        Map<String, FloatTensor> t = new TreeMap<>();
        float v = 0;
        for (int layer = 0; layer < model.layers(); layer++) {
            for (LoraTarget target : targets) {
                float[] a = new float[realRank * model.inFeatures(target)];
                float[] b = new float[model.outFeatures(target) * realRank];
                for (int i = 0; i < a.length; i++) {
                    a[i] = v++;
                }
                t.put(AdapterTensorName.of(layer, target, A), FloatTensor.f32(a, realRank, model.inFeatures(target)));
                t.put(AdapterTensorName.of(layer, target, B), FloatTensor.f32(b, model.outFeatures(target), realRank));
            }
        }
        return new Adapter(new AdapterConfig(r, 2.0 * r, 0.05, targets, "base"), t);
    }
}
