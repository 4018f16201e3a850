package io.fedtune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a constant inside the autograd graph. Never use DJL's {@code NDArray.mul(Number)} (nor add, sub,
 * div, pow with a Number) on a path backward runs through: DJL 0.32's PtNDArray wraps the number in a 0-d tensor
 * over a direct ByteBuffer ({@code from_blob}, no copy) and closes that array as soon as the op returns, which drops
 * the only Java reference to the buffer. Autograd keeps the 0-d tensor for backward (mul, div and pow need it there),
 * so once a garbage collection runs between forward and backward the buffer is freed and backward reads freed
 * memory: a wrong gradient, NaN now and then, a skipped step, other adapter bytes for the same seed.
 * {@code NDManager.full} allocates inside libtorch, so the tensor autograd keeps owns its memory and closing the Java
 * array here is safe. The constant is float32 like the number's value in the kernel (a 0-d operand never changes
 * the result type, and CPU kernels read it as the op's math type), so results are bit-identical to the Number calls.
 */
public final class Scalars {
    private Scalars() {
    }

    public static NDArray mul(NDArray x, double value) {
        try (NDArray c = constant(x, value)) {
            return x.mul(c);
        }
    }

    public static NDArray div(NDArray x, double value) {
        try (NDArray c = constant(x, value)) {
            return x.div(c);
        }
    }

    public static NDArray add(NDArray x, double value) {
        try (NDArray c = constant(x, value)) {
            return x.add(c);
        }
    }

    public static NDArray pow(NDArray x, double exponent) {
        try (NDArray c = constant(x, exponent)) {
            return x.pow(c);
        }
    }

    private static NDArray constant(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, DataType.FLOAT32).toDevice(like.getDevice(), false);
    }
}
