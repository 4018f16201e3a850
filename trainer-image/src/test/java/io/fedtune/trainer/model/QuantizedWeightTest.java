package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.fedtune.api.v1alpha1.BaseQuantization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QuantizedWeightTest {
    /** Rows of very different magnitudes, so a shared scale would fail the per-row bound. */
    private static float[] weight(int out, int in, long seed) {
        Random r = new Random(seed);
        float[] w = new float[out * in];
        for (int o = 0; o < out; o++) {
            double magnitude = Math.pow(10, o % 4 - 2);
            for (int i = 0; i < in; i++) {
                w[o * in + i] = (float) (r.nextGaussian() * magnitude);
            }
        }
        return w;
    }

    private static float[] roundTrip(BaseQuantization kind, float[] w, int out, int in, DataType type) {
        try (NDManager m = NDManager.newBaseManager(type == DataType.FLOAT32 ? Device.cpu() : Device.gpu(), "PyTorch")) {
            QuantizedWeight q = QuantizedWeight.of("w", kind, w, out, in, m, type);
            NDArray d = q.dequantize(m);
            assertThat(d.getShape().getShape()).containsExactly(out, in);
            assertThat(d.getDataType()).isEqualTo(type);
            return d.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    private static float absmax(float[] w, int from, int n) {
        float m = 0;
        for (int i = from; i < from + n; i++) {
            m = Math.max(m, Math.abs(w[i]));
        }
        return m;
    }

    @Test
    void int8IsWithinHalfAStepOfItsRowsAbsmaxOver127() {
        int out = 8;
        int in = 96;
        float[] w = weight(out, in, 1);
        float[] d = roundTrip(BaseQuantization.Int8, w, out, in, DataType.FLOAT32);
        double worstFraction = 0;
        for (int o = 0; o < out; o++) {
            float step = absmax(w, o * in, in) / 127f;
            for (int i = 0; i < in; i++) {
                double err = Math.abs(w[o * in + i] - d[o * in + i]);
                assertThat(err).as("row %d col %d", o, i).isLessThanOrEqualTo(step / 2 * 1.0001 + 1e-12);
                worstFraction = Math.max(worstFraction, err / step);
            }
            // the row's largest value is exact: +-127 steps
            int arg = argAbsmax(w, o * in, in);
            assertThat(d[arg]).isCloseTo(w[arg], org.assertj.core.data.Offset.offset(Math.abs(w[arg]) * 1e-6f));
        }
        // rounding really happened: some value lands near half a step away
        assertThat(worstFraction).isGreaterThan(0.4);
    }

    @Test
    void int4IsWithinHalfAStepOfItsGroupsAbsmaxOver7() {
        int out = 6;
        int in = 192;
        float[] w = weight(out, in, 2);
        // a group of zeros dequantizes to zeros
        java.util.Arrays.fill(w, 64, 128, 0f);
        float[] d = roundTrip(BaseQuantization.Int4, w, out, in, DataType.FLOAT32);
        double worstFraction = 0;
        for (int o = 0; o < out; o++) {
            for (int g = 0; g < in / QuantizedWeight.INT4_GROUP; g++) {
                int from = o * in + g * QuantizedWeight.INT4_GROUP;
                float step = absmax(w, from, QuantizedWeight.INT4_GROUP) / 7f;
                for (int i = from; i < from + QuantizedWeight.INT4_GROUP; i++) {
                    double err = Math.abs(w[i] - d[i]);
                    assertThat(err).as("element %d", i).isLessThanOrEqualTo(step / 2 * 1.0001 + 1e-12);
                    worstFraction = step == 0 ? worstFraction : Math.max(worstFraction, err / step);
                }
            }
        }
        for (int i = 64; i < 128; i++) {
            assertThat(d[i]).isZero();
        }
        assertThat(worstFraction).isGreaterThan(0.4);
    }

    @Test
    void rowBlocksQuantizeAsTheWholeWeightDoes() {
        int out = 10;
        int in = 128;
        float[] w = weight(out, in, 6);
        for (BaseQuantization kind : new BaseQuantization[]{BaseQuantization.Int8, BaseQuantization.Int4}) {
            try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
                float[] whole = QuantizedWeight.of("w", kind, w, out, in, m, DataType.FLOAT32).dequantize(m).toFloatArray();
                QuantizedWeight.Builder b = QuantizedWeight.builder("w", kind, out, in);
                b.rows(0, java.util.Arrays.copyOfRange(w, 0, 3 * in), 3);
                b.rows(3, java.util.Arrays.copyOfRange(w, 3 * in, out * in), out - 3);
                assertThat(b.build(m, DataType.FLOAT32).dequantize(m).toFloatArray()).as(kind.name()).containsExactly(whole);
            }
        }
    }

    /** An embedding table over the 4M values read at once is loaded in row blocks, the last one short. */
    @Test
    void aLargeTensorIsLoadedInRowBlocksExactly(@TempDir Path dir) throws Exception {
        ModelConfig config = new ModelConfig("LlamaForCausalLM", 65_600, 64, 128, 1, 4, 2, 16, 1e-5, 10000.0, true, false,
                128, 1, 2);
        RandomCheckpoint.write(dir, config, 8);
        float[] file;
        try (var r = io.fedtune.trainer.safetensors.SafetensorsReader.open(dir.resolve(Checkpoint.WEIGHTS))) {
            file = r.readFloats("model.embed_tokens.weight");
        }
        try (LlamaModel m = LlamaModel.load(Checkpoint.open(dir), Device.cpu(), DataType.FLOAT32, BaseQuantization.Int8)) {
            // isEqualTo, not containsExactly: AssertJ's element diff is quadratic
            assertThat(m.baseWeights().get("model.embed_tokens.weight").toFloatArray()).isEqualTo(file);
        }
    }

    /** Where a GPU is usable: this image's CPU libtorch aborts the JVM on bfloat16 casts (GemmaModelTest). */
    @Test
    void bfloat16DequantizesWithinBfloat16sRoundingOfTheFloat32Result() {
        org.junit.jupiter.api.Assumptions.assumeTrue(GpuCheck.run().problem().isEmpty(), "no usable GPU");
        int out = 4;
        int in = 128;
        float[] w = weight(out, in, 3);
        for (BaseQuantization kind : new BaseQuantization[]{BaseQuantization.Int8, BaseQuantization.Int4}) {
            float[] f32 = roundTrip(kind, w, out, in, DataType.FLOAT32);
            float[] bf16 = roundTrip(kind, w, out, in, DataType.BFLOAT16);
            for (int i = 0; i < w.length; i++) {
                // the scale and the product each round to 8 significant bits
                assertThat((double) Math.abs(bf16[i] - f32[i])).as("%s %d", kind, i).isLessThanOrEqualTo(Math.abs(f32[i]) * 2.0 / 256 + 1e-30);
            }
        }
    }

    private static int argAbsmax(float[] w, int from, int n) {
        int arg = from;
        for (int i = from; i < from + n; i++) {
            if (Math.abs(w[i]) > Math.abs(w[arg])) {
                arg = i;
            }
        }
        return arg;
    }

    @Test
    void int4RefusesAnInputSizeThatIsNotAMultipleOfItsGroupNamingTheTensorAndTheFix(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> QuantizedWeight.builder("w", BaseQuantization.Int4, 4, 48))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("48 input features");
        // TinyModels.llama: hidden 32, so q_proj has 32 inputs
        RandomCheckpoint.write(dir, TinyModels.llama(40), 1);
        assertThatThrownBy(() -> LlamaModel.load(Checkpoint.open(dir), Device.cpu(), DataType.FLOAT32, BaseQuantization.Int4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("baseQuantization Int4")
                .hasMessageContaining("model.layers.0.")
                .hasMessageContaining("use baseQuantization Int8");
        // Int8 has no such limit
        try (LlamaModel m = LlamaModel.load(Checkpoint.open(dir), Device.cpu(), DataType.FLOAT32, BaseQuantization.Int8)) {
            assertThat(m.quantizedWeights()).hasSize(2 * 7);
        }
    }

    /**
     * Logits of the quantized model against the unquantized one on the same tokens, on a random model whose weights
     * (std 0.1) move the logits well away from uniform. Quantization noise per weight is about step/sqrt(12) of
     * absmax/127 (Int8) or absmax/7 over 64 values (Int4): about 0.7% and 10% of a weight's size; through two layers
     * and the LM head the logits' error relative to their spread comes out near that, so the bounds are 3% and 30%.
     */
    @Test
    void quantizedLogitsStayCloseToTheUnquantizedOnesAndOnlyTheProjectionsAreQuantized(@TempDir Path dir) throws Exception {
        RandomCheckpoint.write(dir, TinyModels.llama64(50), 4, 0.1);
        Checkpoint cp = Checkpoint.open(dir);
        long[] ids = new long[2 * 12];
        Random r = new Random(5);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(50);
        }
        float[] reference = logits(cp, BaseQuantization.None, ids);
        double spread = rms(reference, null);
        for (BaseQuantization kind : new BaseQuantization[]{BaseQuantization.Int8, BaseQuantization.Int4}) {
            float[] q = logits(cp, kind, ids);
            double relative = rms(q, reference) / spread;
            assertThat(relative).as(kind.name()).isLessThan(kind == BaseQuantization.Int8 ? 0.03 : 0.3).isGreaterThan(0);
        }
        try (LlamaModel none = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32);
             LlamaModel int4 = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32, BaseQuantization.Int4)) {
            assertThat(int4.quantizedWeights().keySet()).allMatch(n -> n.startsWith("model.layers.") && n.endsWith("_proj.weight"));
            assertThat(int4.baseWeights().keySet()).contains("model.embed_tokens.weight", "lm_head.weight", "model.norm.weight");
            assertThat(int4.baseWeights().size() + int4.quantizedWeights().size()).isEqualTo(none.baseWeights().size());
            // 4 bits plus a float32 scale per 64 values against 32 bits, and a 256 x 2 float32 table per weight
            long projections = 2L * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128);
            assertThat(none.baseBytes() - int4.baseBytes())
                    .isEqualTo(projections * 4 - projections / 2 - projections / 64 * 4 - 14 * 256 * 2 * 4);
        }
    }

    private static float[] logits(Checkpoint cp, BaseQuantization kind, long[] ids) throws Exception {
        try (LlamaModel m = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32, kind);
             NDManager s = m.manager().newSubManager()) {
            return m.logits(s.create(ids, new ai.djl.ndarray.types.Shape(2, 12)), null).toFloatArray();
        }
    }

    private static double rms(float[] a, float[] b) {
        double mean = 0;
        if (b == null) {
            for (float x : a) {
                mean += x / (double) a.length;
            }
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - (b == null ? mean : b[i]);
            s += d * d;
        }
        return Math.sqrt(s / a.length);
    }
}
