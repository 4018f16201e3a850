package io.fedtune.images;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.List;

/**
 * A trainer pod that, instead of training, loads JNA's native library the way DJL does before it looks for a GPU
 * (CudaUtils), with the image's JVM options, and prints where it came from ({@link Main}, run from the test classes,
 * mounted read-only). A JNA that cannot load makes DJL see no GPU and train on the CPU. It also prints the malloc
 * the trainer JVM runs with: the shared libraries mapped into it whose names contain "malloc".
 */
final class JnaProbe {
    private JnaProbe() {
    }

    static Pod pod(Pod trainer) {
        Pod copy = new PodBuilder(trainer).editMetadata().withName(trainer.getMetadata().getName() + "-jna").endMetadata().build();
        var c = copy.getSpec().getContainers().get(0);
        // images before FEDTUNE_CLASSPATH ran the shaded jar
        c.setCommand(List.of("/bin/sh", "-c", "exec java $FEDTUNE_JAVA_OPTS -cp \"${FEDTUNE_CLASSPATH:-/app/fedtune-trainer.jar}:/probe\" "
                + Main.class.getName().replace("$", "\\$")));
        c.setArgs(List.of());
        c.getVolumeMounts().add(new VolumeMountBuilder().withName("probe").withMountPath("/probe").withReadOnly(true).build());
        copy.getSpec().getVolumes().add(new VolumeBuilder().withName("probe")
                .withNewHostPath().withPath(Images.ROOT.resolve("operator/images/target/test-classes").toString()).endHostPath().build());
        return copy;
    }

    /** Runs in the image: nothing here but JNA. */
    public static final class Main {
        private Main() {
        }

        public static void main(String[] args) {
            try {
                Class.forName("com.sun.jna.Native");
                System.out.println("jnidispatch " + System.getProperty("jnidispatch.path"));
                java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")).stream()
                        .map(line -> line.substring(line.lastIndexOf(' ') + 1))
                        .filter(path -> path.contains("malloc")).distinct()
                        .forEach(path -> System.out.println("malloc " + path));
            } catch (Throwable e) {
                System.out.println("jnidispatch failed: " + e);
                System.exit(1);
            }
        }
    }
}
