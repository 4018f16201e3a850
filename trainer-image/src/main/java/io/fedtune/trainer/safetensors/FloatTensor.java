package io.fedtune.trainer.safetensors;

import java.util.Arrays;

/** A dense tensor held as floats in row-major order, with the dtype it is stored as. */
public record FloatTensor(Dtype dtype, long[] shape, float[] values) {

    public FloatTensor {
        if (TensorInfo.elementCount(shape) != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs "
                    + TensorInfo.elementCount(shape) + " values, got " + values.length);
        }
    }

    public static FloatTensor f32(float[] values, long... shape) {
        return new FloatTensor(Dtype.F32, shape, values);
    }

    public int rows() {
        return (int) shape[0];
    }

    public int columns() {
        return (int) shape[shape.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
