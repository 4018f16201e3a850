package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.train.LoraParameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * LlamaModel's logits, with a LoRA adapter on every projection PEFT targets (q, k, v, o, gate, up, down; B non-zero),
 * against {@link ReferenceForward} to 1e-4 on a random checkpoint of the given config.
 */
public final class ModelReference {
    private static final int[][] SEQUENCES = {{1, 5, 9, 3, 40, 7, 7, 2, 11, 30, 8, 19}, {1, 50, 2, 2, 8, 0, 17, 33, 4, 12, 6, 25}};

    private ModelReference() {
    }

    /** @return the reference logits of the first sequence, [time][vocab] */
    public static double[][] compare(Path dir, ModelConfig config, long seed, int time) throws IOException {
        RandomCheckpoint.write(dir, config, seed, 0.2);
        Checkpoint cp = Checkpoint.open(dir);
        AdapterConfig ac = new AdapterConfig(4, 8, 0.0, config.modules(), "tiny");
        LoraParameters lora = LoraParameters.initial(ac, config, 5);
        Random r = new Random(9);
        lora.tensors().forEach((name, t) -> {
            if (!LoraParameters.isA(name)) {
                for (int i = 0; i < t.values().length; i++) {
                    t.values()[i] = (float) (r.nextGaussian() * 0.1);
                }
            }
        });
        int vocab = config.vocabSize();
        try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32);
             NDManager m = model.manager().newSubManager()) {
            long[] ids = new long[2 * time];
            for (int b = 0; b < 2; b++) {
                for (int t = 0; t < time; t++) {
                    ids[b * time + t] = SEQUENCES[b][t] % vocab;
                }
            }
            NDArray logits = model.logits(m.create(ids, new Shape(2, time)), lora.arrays(m, false, false));
            assertThat(logits.getShape().getShape()).containsExactly(2, time, vocab);
            float[] got = logits.toFloatArray();
            ReferenceForward ref = new ReferenceForward(cp, lora.tensors(), ac.scaling());
            double maxAbs = 0;
            double[][] first = null;
            for (int b = 0; b < 2; b++) {
                int[] seq = new int[time];
                for (int t = 0; t < time; t++) {
                    seq[t] = (int) ids[b * time + t];
                }
                double[][] want = ref.logits(seq);
                first = first == null ? want : first;
                for (int t = 0; t < time; t++) {
                    for (int v = 0; v < vocab; v++) {
                        maxAbs = Math.max(maxAbs, Math.abs(want[t][v]));
                        assertThat((double) got[(b * time + t) * vocab + v])
                                .as("batch %d position %d token %d", b, t, v).isCloseTo(want[t][v], within(1e-4));
                    }
                }
            }
            assertThat(maxAbs).as("logits large enough for the comparison to mean something").isGreaterThan(0.5);
            return first;
        }
    }

    /** The largest difference between two logit tables. */
    public static double maxDifference(double[][] a, double[][] b) {
        double max = 0;
        for (int t = 0; t < a.length; t++) {
            for (int v = 0; v < a[t].length; v++) {
                max = Math.max(max, Math.abs(a[t][v] - b[t][v]));
            }
        }
        return max;
    }
}
