package io.fedtune.trainer.safetensors;

import java.util.Arrays;

/** A tensor to be written: its name, stored dtype and shape, known before its values. */
public record TensorSpec(String name, Dtype dtype, long[] shape) {

    public long byteLength() {
        return Math.multiplyExact(TensorInfo.elementCount(shape), dtype.bytes());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
