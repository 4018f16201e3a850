package io.fedtune.trainer.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.AdapterTensorName;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.model.ReferenceForward;
import io.fedtune.trainer.model.TinyModels;
import io.fedtune.trainer.safetensors.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Training through Gemma's soft-caps, GeGLU and extra norms: the adapter's gradients equal central differences of the
 * plain-Java reference's loss, and local training lowers the loss with the base untouched.
 */
class GemmaTrainingTest {
    @TempDir
    Path dir;

    @Test
    void loraGradientsEqualFiniteDifferencesOfTheReferenceLoss() throws IOException {
        for (ModelConfig config : new ModelConfig[]{TinyModels.gemma2(61, 1.0, 1.5), TinyModels.gemma3(61, 1.0, 1.5)}) {
            Path at = dir.resolve(config.architecture());
            RandomCheckpoint.write(at, config, 81, 0.2);
            Checkpoint cp = Checkpoint.open(at);
            AdapterConfig ac = new AdapterConfig(4, 8, 0.0, config.modules(), "w");
            LoraParameters params = LoraParameters.initial(ac, config, 6);
            Random r = new Random(10);
            params.tensors().forEach((name, t) -> {
                if (!LoraParameters.isA(name)) {
                    for (int i = 0; i < t.values().length; i++) {
                        t.values()[i] = (float) (r.nextGaussian() * 0.1);
                    }
                }
            });
            int[] tokens = {2, 5, 9, 3, 40, 7, 7, 2, 11, 30};
            boolean[] loss = new boolean[tokens.length];
            Arrays.fill(loss, 1, loss.length, true);
            TokenBatch batch = TokenBatch.of(List.of(new TokenSequence(tokens, loss)));
            Map<String, float[]> grads = new TreeMap<>();
            try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32);
                 NDManager m = model.manager().newSubManager()) {
                LoraArrays lora = params.arrays(m, true, false);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(batch.summedLoss(model.logits(batch.inputs(m), lora), m));
                }
                lora.arrays().forEach((name, a) -> {
                    try (NDArray g = a.getGradient()) {
                        grads.put(name, g.toFloatArray());
                    }
                });
            }
            ReferenceForward ref = new ReferenceForward(cp, params.tensors(), ac.scaling());
            int checked = 0;
            for (int layer : new int[]{0, config.layers() - 1}) {
                for (LoraTarget t : config.modules()) {
                    for (AdapterTensorName.Factor f : AdapterTensorName.Factor.values()) {
                        String name = AdapterTensorName.of(layer, t, f);
                        FloatTensor tensor = params.tensors().get(name);
                        int i = (7 * layer + 3 * t.ordinal()) % tensor.values().length;
                        float v = tensor.values()[i];
                        float up = (float) (v + 1e-3);
                        float down = (float) (v - 1e-3);
                        tensor.values()[i] = up;
                        double plus = referenceLoss(ref, tokens);
                        tensor.values()[i] = down;
                        double minus = referenceLoss(ref, tokens);
                        tensor.values()[i] = v;
                        double want = (plus - minus) / ((double) up - down);
                        assertThat((double) grads.get(name)[i]).as("%s %s[%d]", config.architecture(), name, i)
                                .isCloseTo(want, within(1e-3 + 1e-2 * Math.abs(want)));
                        checked++;
                    }
                }
            }
            assertThat(checked).isEqualTo(28);
        }
    }

    @Test
    void gemmaLocalTrainingLowersTheLossAndLeavesTheBaseUntouched() throws IOException {
        ModelConfig config = TinyModels.gemma2(LocalTrainingTest.VOCAB, 1.0, 1.5);
        RandomCheckpoint.write(dir, config, 7, 0.1);
        List<TokenSequence> train = LocalTrainingTest.countingSequences(64, new Random(1));
        try (LlamaModel model = LlamaModel.load(Checkpoint.open(dir), Device.cpu(), DataType.FLOAT32)) {
            Map<String, float[]> before = new TreeMap<>();
            model.baseWeights().forEach((name, w) -> before.put(name, w.toFloatArray()));
            LoraParameters params = LoraParameters.initial(LocalTrainingTest.adapterConfig(), config, 42);
            LocalTraining.Report report = new LocalTraining(model, LocalTrainingTest.options(40, 0, false)).run(params, train);
            assertThat(report.skippedSteps()).isZero();
            assertThat(report.trainLoss()).isLessThan(report.losses().get(0) * 0.8);
            model.baseWeights().forEach((name, w) -> assertThat(w.toFloatArray()).as(name).containsExactly(before.get(name)));
        }
    }

    /** Summed negative log-likelihood of tokens 1.. given the ones before, as TokenBatch.summedLoss. */
    private static double referenceLoss(ReferenceForward ref, int[] tokens) throws IOException {
        double[][] logits = ref.logits(Arrays.copyOf(tokens, tokens.length - 1));
        double sum = 0;
        for (int t = 0; t + 1 < tokens.length; t++) {
            double max = Arrays.stream(logits[t]).max().orElseThrow();
            double z = Arrays.stream(logits[t]).map(x -> Math.exp(x - max)).sum();
            sum -= logits[t][tokens[t + 1]] - max - Math.log(z);
        }
        return sum;
    }
}
