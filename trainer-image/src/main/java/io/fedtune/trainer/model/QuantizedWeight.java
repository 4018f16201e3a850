package io.fedtune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import io.fedtune.api.v1alpha1.BaseQuantization;

import java.nio.ByteBuffer;

/**
 * A frozen projection weight [out, in] held quantized (QLoRA-style) and dequantized to the compute type just before
 * its matmul. Int8: symmetric, one absmax/127 scale per output row. Int4: symmetric, one absmax/7 scale per group of
 * {@link #INT4_GROUP} consecutive input features, each value stored as value + 8 in a nibble, two per byte (element
 * 2j in the low nibble, 2j+1 in the high one). DJL has no bitwise ops on arrays, so the bytes are unpacked by a lookup
 * in a 256 x 2 table of (low nibble - 8, high nibble - 8), an embedding gather. Rounding is to nearest, so every dequantized
 * value is within half its scale of the original. Intermediates are closed as soon as they are used, so dequantizing
 * holds about two compute-type copies of the weight at its peak.
 */
public final class QuantizedWeight implements AutoCloseable {
    public static final int INT4_GROUP = 64;

    private final BaseQuantization kind;
    private final int out;
    private final int in;
    private final NDArray values;
    private final NDArray scales;
    private final NDArray nibbles;

    private QuantizedWeight(BaseQuantization kind, int out, int in, NDArray values, NDArray scales, NDArray nibbles) {
        this.kind = kind;
        this.out = out;
        this.in = in;
        this.values = values;
        this.scales = scales;
        this.nibbles = nibbles;
    }

    /**
     * Quantizes a weight the caller hands over in row blocks (so a large one never sits on the heap as floats).
     */
    public static Builder builder(String name, BaseQuantization kind, int out, int in) {
        return new Builder(name, kind, out, in);
    }

    /** Quantizes a whole row-major [out, in] weight at once. */
    public static QuantizedWeight of(String name, BaseQuantization kind, float[] w, int out, int in, NDManager manager,
                                     DataType computeType) {
        Builder b = builder(name, kind, out, in);
        b.rows(0, w, out);
        return b.build(manager, computeType);
    }

    /** The refusal for an Int4 weight whose input size is not a multiple of the group, or null where it fits. */
    public static String int4Problem(String name, long in) {
        return in % INT4_GROUP == 0 ? null : "baseQuantization Int4 groups " + INT4_GROUP + " input features per scale, but "
                + name + " has " + in + " input features (not a multiple of " + INT4_GROUP + "); use baseQuantization Int8";
    }

    /** Collects row blocks in Java, then builds the arrays once. */
    public static final class Builder {
        private final BaseQuantization kind;
        private final int out;
        private final int in;
        private final byte[] values;
        private final float[] scales;

        private Builder(String name, BaseQuantization kind, int out, int in) {
            if (kind == BaseQuantization.None) {
                throw new IllegalArgumentException("nothing to quantize with baseQuantization None");
            }
            String problem = kind == BaseQuantization.Int4 ? int4Problem(name, in) : null;
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            this.kind = kind;
            this.out = out;
            this.in = in;
            this.values = new byte[kind == BaseQuantization.Int8 ? Math.multiplyExact(out, in) : Math.multiplyExact(out, in / 2)];
            this.scales = new float[kind == BaseQuantization.Int8 ? out : out * (in / INT4_GROUP)];
        }

        /** Quantizes rows firstRow .. firstRow + rows - 1, given row-major in block. */
        public Builder rows(int firstRow, float[] block, int rows) {
            if (kind == BaseQuantization.Int8) {
                for (int r = 0; r < rows; r++) {
                    int row = firstRow + r;
                    float scale = absmax(block, r * in, in) / 127f;
                    scales[row] = scale;
                    for (int c = 0; c < in; c++) {
                        values[row * in + c] = (byte) quantize(block[r * in + c], scale, 127);
                    }
                }
                return this;
            }
            int groups = in / INT4_GROUP;
            for (int r = 0; r < rows; r++) {
                int row = firstRow + r;
                for (int g = 0; g < groups; g++) {
                    int from = r * in + g * INT4_GROUP;
                    float scale = absmax(block, from, INT4_GROUP) / 7f;
                    scales[row * groups + g] = scale;
                    for (int c = 0; c < INT4_GROUP; c += 2) {
                        int lo = quantize(block[from + c], scale, 7) + 8;
                        int hi = quantize(block[from + c + 1], scale, 7) + 8;
                        values[(row * in + g * INT4_GROUP + c) / 2] = (byte) (lo | hi << 4);
                    }
                }
            }
            return this;
        }

        public QuantizedWeight build(NDManager manager, DataType computeType) {
            NDArray v = kind == BaseQuantization.Int8
                    ? manager.create(ByteBuffer.wrap(values), new Shape(out, in), DataType.INT8)
                    : manager.create(ByteBuffer.wrap(values), new Shape(out, in / 2), DataType.UINT8);
            Shape scaleShape = kind == BaseQuantization.Int8 ? new Shape(out, 1) : new Shape(out, in / INT4_GROUP, 1);
            NDArray s32 = manager.create(scales, scaleShape);
            NDArray s = computeType == DataType.FLOAT32 ? s32 : s32.toType(computeType, false);
            if (s != s32) {
                s32.close();
            }
            NDArray table = null;
            if (kind == BaseQuantization.Int4) {
                float[] pairs = new float[256 * 2];
                for (int b = 0; b < 256; b++) {
                    pairs[2 * b] = (b & 15) - 8;
                    pairs[2 * b + 1] = (b >> 4) - 8;
                }
                NDArray t32 = manager.create(pairs, new Shape(256, 2));
                table = computeType == DataType.FLOAT32 ? t32 : t32.toType(computeType, false);
                if (table != t32) {
                    t32.close();
                }
            }
            return new QuantizedWeight(kind, out, in, v, s, table);
        }
    }

    private static float absmax(float[] v, int from, int n) {
        float m = 0;
        for (int i = from; i < from + n; i++) {
            m = Math.max(m, Math.abs(v[i]));
        }
        return m;
    }

    private static int quantize(float x, float scale, int limit) {
        if (scale == 0) {
            return 0;
        }
        return Math.max(-limit, Math.min(limit, Math.round(x / scale)));
    }

    /**
     * The weight [out, in] in the scales' (compute) type, attached to target; the unpacking's intermediates are freed
     * before it returns.
     */
    public NDArray dequantize(NDManager target) {
        try (NDManager scope = values.getManager().newSubManager()) {
            values.tempAttach(scope);
            scales.tempAttach(scope);
            NDArray w;
            if (kind == BaseQuantization.Int8) {
                try (NDArray v = values.toType(scales.getDataType(), false)) {
                    w = v.mul(scales);
                }
            } else {
                nibbles.tempAttach(scope);
                // each byte indexes its two values: one gather, no bit arithmetic
                try (NDArray index = values.toType(DataType.INT32, false);
                     NDArray pairs = Embedding.embedding(index, nibbles, SparseFormat.DENSE).singletonOrThrow()) {
                    w = pairs.reshape(out, in / INT4_GROUP, INT4_GROUP).mul(scales).reshape(out, in);
                }
            }
            w.attach(target);
            return w;
        }
    }

    public BaseQuantization kind() {
        return kind;
    }

    /** Bytes held: the packed values, the scales and Int4's lookup table. */
    public long bytes() {
        return bytes(values) + bytes(scales) + (nibbles == null ? 0 : bytes(nibbles));
    }

    private static long bytes(NDArray a) {
        return a.size() * a.getDataType().getNumOfBytes();
    }

    @Override
    public void close() {
        values.close();
        scales.close();
        if (nibbles != null) {
            nibbles.close();
        }
    }
}
