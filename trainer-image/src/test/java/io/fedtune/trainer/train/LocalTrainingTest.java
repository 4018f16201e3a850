package io.fedtune.trainer.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.model.TinyModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class LocalTrainingTest {
    static final int VOCAB = 40;
    static Path base;
    static LlamaModel model;
    static List<TokenSequence> train;
    static List<TokenSequence> eval;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadTinyModel(@TempDir Path tmp) throws IOException {
        base = tmp.resolve("base");
        RandomCheckpoint.write(base, TinyModels.llama(VOCAB), 7, 0.1);
        model = LlamaModel.load(Checkpoint.open(base), Device.cpu(), DataType.FLOAT32);
        train = countingSequences(64, new Random(1));
        eval = countingSequences(16, new Random(2));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Sequences where each token is the previous plus a per-sequence stride: learnable, far from uniform. */
    static List<TokenSequence> countingSequences(int n, Random r) {
        List<TokenSequence> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 12 + r.nextInt(8);
            int stride = 1 + r.nextInt(2);
            int[] t = new int[len];
            boolean[] loss = new boolean[len];
            t[0] = 1;
            int v = 3 + r.nextInt(VOCAB - 3);
            for (int j = 1; j < len; j++) {
                t[j] = v;
                v = 3 + (v - 3 + stride) % (VOCAB - 3);
                loss[j] = true;
            }
            out.add(new TokenSequence(t, loss));
        }
        return out;
    }

    static AdapterConfig adapterConfig() {
        return new AdapterConfig(8, 16, 0.05, LoraTarget.SEPARATE, "tiny");
    }

    static TrainingOptions options(int steps, double mu, boolean freezeA) {
        return new TrainingOptions(steps, 8, 2e-2, 0.0, 1.0, mu, freezeA, 42);
    }

    @Test
    void lossGoesDownWithin60StepsAndTheBaseStaysUntouched() throws Exception {
        String fileBefore = sha256(Files.readAllBytes(base.resolve("model.safetensors")));
        String weightsBefore = baseDigest();
        LoraParameters params = LoraParameters.initial(adapterConfig(), model.config(), 42);
        double evalBefore = Evaluation.run(model, params, eval, 8).meanLoss();

        LocalTraining.Report report = new LocalTraining(model, options(60, 0, false)).run(params, train);

        double evalAfter = Evaluation.run(model, params, eval, 8).meanLoss();
        assertThat(report.losses()).hasSize(60);
        assertThat(report.trainLoss()).isLessThan(report.losses().get(0) * 0.8);
        assertThat(evalAfter).isLessThan(evalBefore * 0.8);
        assertThat(baseDigest()).isEqualTo(weightsBefore);
        assertThat(sha256(Files.readAllBytes(base.resolve("model.safetensors")))).isEqualTo(fileBefore);

        params.toAdapter().write(dir);
        LoraParameters reloaded = LoraParameters.from(Adapter.read(dir), model.config());
        assertThat(Evaluation.run(model, reloaded, eval, 8).meanLoss()).isEqualTo(evalAfter);
    }

    @Test
    void gradientsReachOnlyTheAdapterAndNotAWhenItIsFrozen() {
        for (boolean freezeA : new boolean[]{false, true}) {
            LoraParameters params = LoraParameters.initial(adapterConfig(), model.config(), 1);
            // make B non-zero so A receives a gradient when it is trainable
            params.tensors().forEach((n, t) -> java.util.Arrays.fill(t.values(), 0.01f));
            TokenBatch batch = TokenBatch.of(train.subList(0, 4));
            try (NDManager m = model.manager().newSubManager()) {
                LoraArrays lora = params.arrays(m, true, freezeA);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(batch.summedLoss(model.logits(batch.inputs(m), lora), m));
                }
                model.baseWeights().forEach((name, w) -> assertThat(w.hasGradient()).as(name).isFalse());
                lora.arrays().forEach((name, a) -> {
                    boolean isA = LoraParameters.isA(name);
                    if (freezeA && isA) {
                        assertThat(a.hasGradient()).as(name).isFalse();
                    } else {
                        try (NDArray g = a.getGradient()) {
                            assertThat(g.abs().sum().getFloat()).as(name).isGreaterThan(0f);
                        }
                    }
                });
            }
        }
    }

    @Test
    void sameSeedGivesTheSameAdapterBytesAndFrozenAStaysAtItsSeededValue() throws IOException {
        LoraParameters one = LoraParameters.initial(adapterConfig(), model.config(), 3);
        LoraParameters two = LoraParameters.initial(adapterConfig(), model.config(), 3);
        Map<String, float[]> initialA = new TreeMap<>();
        one.tensors().forEach((n, t) -> {
            if (LoraParameters.isA(n)) {
                initialA.put(n, t.values().clone());
            }
        });
        // a healthy model skips no step: a skipped one would be the first place two runs part
        assertThat(new LocalTraining(model, options(5, 0, true)).run(one, train).skippedSteps()).isZero();
        assertThat(new LocalTraining(model, options(5, 0, true)).run(two, train).skippedSteps()).isZero();
        one.toAdapter().write(dir.resolve("one"));
        two.toAdapter().write(dir.resolve("two"));
        assertThat(Files.readAllBytes(dir.resolve("one/adapter_model.safetensors")))
                .isEqualTo(Files.readAllBytes(dir.resolve("two/adapter_model.safetensors")));
        initialA.forEach((n, a) -> assertThat(one.tensors().get(n).values()).as(n).isEqualTo(a));
    }

    @Test
    void fedProxKeepsTheAdapterCloserToWhereItStarted() {
        LoraParameters free = LoraParameters.initial(adapterConfig(), model.config(), 4);
        LoraParameters start = free.copy();
        LoraParameters prox = free.copy();
        new LocalTraining(model, options(15, 0, false)).run(free, train);
        new LocalTraining(model, options(15, 50.0, false)).run(prox, train);
        assertThat(distance(prox, start)).isLessThan(distance(free, start) * 0.9);
    }

    @Test
    void nonFiniteStepsAreSkippedAndCounted() throws IOException {
        Path broken = dir.resolve("broken");
        ModelConfig config = TinyModels.llama(VOCAB);
        RandomCheckpoint.write(broken, config, 7);
        // an infinite norm weight makes every loss non-finite
        var tensors = io.fedtune.trainer.safetensors.SafetensorsReader.open(broken.resolve("model.safetensors")).readAll();
        java.util.Arrays.fill(tensors.get("model.norm.weight").values(), Float.POSITIVE_INFINITY);
        io.fedtune.trainer.safetensors.SafetensorsWriter.write(broken.resolve("model.safetensors"), tensors, Map.of());
        try (LlamaModel bad = LlamaModel.load(Checkpoint.open(broken), Device.cpu(), DataType.FLOAT32)) {
            LoraParameters params = LoraParameters.initial(adapterConfig(), config, 1);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> new LocalTraining(bad, options(3, 0, false)).run(params, train))
                    .isInstanceOf(TrainingDivergedException.class).hasMessageContaining("all 3 steps");
        }
    }

    /**
     * Backward must not read memory Java has freed. DJL's Number overloads (x.mul(0.5)) put the number in a tensor
     * over a direct buffer and drop that buffer right away, though autograd keeps the tensor for backward; with a
     * garbage collection between forward and backward the gradient came from freed memory (all NaN under -Xmn1m,
     * one skipped step now and then in pods). Here the collection is forced, and the freed memory refilled with NaN.
     */
    @Test
    void aGarbageCollectionBetweenForwardAndBackwardChangesNoGradient() throws InterruptedException {
        AdapterConfig noDropout = new AdapterConfig(8, 16, 0.0, LoraTarget.SEPARATE, "tiny");
        LoraParameters params = LoraParameters.initial(noDropout, model.config(), 5);
        params.tensors().forEach((n, t) -> {
            for (int i = 0; i < t.values().length; i++) {
                t.values()[i] += 0.01f * ((i % 7) - 3);
            }
        });
        TokenBatch batch = TokenBatch.of(train.subList(0, 4));
        Map<String, float[]> quiet = gradients(params, batch, false);
        Map<String, float[]> collected = gradients(params, batch, true);
        assertThat(collected.keySet()).isEqualTo(quiet.keySet());
        quiet.forEach((name, g) -> assertThat(collected.get(name)).as(name).containsExactly(g));
    }

    private static Map<String, float[]> gradients(LoraParameters params, TokenBatch batch, boolean collectGarbage)
            throws InterruptedException {
        Map<String, float[]> out = new TreeMap<>();
        List<ByteBuffer> refill = List.of();
        try (NDManager m = model.manager().newSubManager()) {
            LoraArrays lora = params.arrays(m, true, false);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = batch.meanLoss(model.logits(batch.inputs(m), lora), m);
                if (collectGarbage) {
                    refill = freeUnreachableDirectBuffersAndRefillTheirMemory();
                }
                gc.backward(loss);
            }
            lora.arrays().forEach((name, a) -> {
                try (NDArray g = a.getGradient()) {
                    out.put(name, g.toFloatArray());
                }
            });
        }
        assertThat(refill.size()).isIn(0, 20_000);
        return out;
    }

    /** A full collection, time for the Cleaner to free unreachable direct buffers, then small buffers of all-ones bits (NaN). */
    private static List<ByteBuffer> freeUnreachableDirectBuffersAndRefillTheirMemory() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        List<ByteBuffer> refill = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(8);
            b.putLong(0, -1L);
            refill.add(b);
        }
        return refill;
    }

    private static double distance(LoraParameters a, LoraParameters b) {
        double d = 0;
        for (String n : a.tensors().keySet()) {
            float[] x = a.tensors().get(n).values();
            float[] y = b.tensors().get(n).values();
            for (int i = 0; i < x.length; i++) {
                d += (x[i] - y[i]) * (double) (x[i] - y[i]);
            }
        }
        return Math.sqrt(d);
    }

    private static String baseDigest() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (Map.Entry<String, NDArray> e : new TreeMap<>(model.baseWeights()).entrySet()) {
            float[] v = e.getValue().toFloatArray();
            ByteBuffer buf = ByteBuffer.allocate(v.length * 4);
            buf.asFloatBuffer().put(v);
            md.update(buf.array());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
