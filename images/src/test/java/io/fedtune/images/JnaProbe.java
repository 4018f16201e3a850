package io.fedtune.images;

/**
 * Run inside an image, with the image's JVM options: loads JNA's native library the way DJL does before it looks for a
 * GPU (CudaUtils), and prints where it came from. A JNA that cannot load makes DJL see no GPU and train on the CPU.
 */
public final class JnaProbe {
    private JnaProbe() {
    }

    public static void main(String[] args) {
        try {
            Class.forName("com.sun.jna.Native");
            System.out.println("jnidispatch " + System.getProperty("jnidispatch.path"));
        } catch (Throwable e) {
            System.out.println("jnidispatch failed: " + e);
            System.exit(1);
        }
    }
}
