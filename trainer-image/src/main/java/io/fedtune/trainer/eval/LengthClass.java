package io.fedtune.trainer.eval;

/**
 * The context-length class of an eval example by its token length: short up to a quarter of the max sequence length,
 * medium up to three quarters, long beyond.
 */
public final class LengthClass {
    public static final String SHORT = "short";
    public static final String MEDIUM = "medium";
    public static final String LONG = "long";

    private LengthClass() {
    }

    public static String of(int length, int maxSequenceLength) {
        if (length * 4 <= maxSequenceLength) {
            return SHORT;
        }
        return length * 4 <= 3 * maxSequenceLength ? MEDIUM : LONG;
    }

    /** short, medium, long, then anything else. */
    static int order(String lengthClass) {
        return switch (lengthClass) {
            case SHORT -> 0;
            case MEDIUM -> 1;
            case LONG -> 2;
            default -> 3;
        };
    }
}
