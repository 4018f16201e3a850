package io.fedtune.trainer.generate;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.model.ReferenceForward;
import io.fedtune.trainer.model.TinyModels;
import io.fedtune.trainer.train.LoraParameters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class DecoderTest {
    static final Path QUICKSTART = Path.of("base-model");
    static BaseModel quickstart;
    static int[] versePrompt;

    @TempDir
    Path dir;

    @BeforeAll
    static void openQuickstart() throws IOException {
        quickstart = BaseModel.open(QUICKSTART, new Placement(Device.cpu(), DataType.FLOAT32));
        int[] text = quickstart.tokenizer().encode("And God said, Let there be");
        versePrompt = new int[text.length + 1];
        versePrompt[0] = quickstart.config().bosTokenId();
        System.arraycopy(text, 0, versePrompt, 1, text.length);
    }

    @AfterAll
    static void close() {
        quickstart.close();
    }

    @Test
    void cachedGreedyTokensEqualRecomputationAndTheReferenceOnARandomCheckpoint() throws IOException {
        ModelConfig config = TinyModels.llama(61);
        RandomCheckpoint.write(dir, config, 21, 0.2);
        Checkpoint cp = Checkpoint.open(dir);
        LoraParameters adapter = adapter(config, 3);
        try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32)) {
            int[] prompt = {1, 5, 9, 3, 40, 7};
            for (LoraParameters lora : new LoraParameters[]{null, adapter}) {
                int[] want = referenceGreedy(cp, lora, prompt, 12);
                assertThat(greedy(model, lora, Decoder.Mode.CACHED, prompt, 12)).as("cached, adapter %s", lora != null).containsExactly(want);
                assertThat(greedy(model, lora, Decoder.Mode.RECOMPUTE, prompt, 12)).as("recomputed").containsExactly(want);
            }
            assertThat(referenceGreedy(cp, adapter, prompt, 12)).as("the adapter changes the tokens")
                    .isNotEqualTo(referenceGreedy(cp, null, prompt, 12));
        }
    }

    @Test
    void cachedGreedyTokensMaskPositionsBeyondTheSlidingWindowAsRecomputationDoes() throws IOException {
        // windows of 3 and 4 against a 6-token prompt and 12 new tokens: the cached steps must mask old keys too; Gemma
        // interleaves sliding and global layers (Gemma 3's with their own rope bases) and soft-caps scores and logits
        for (ModelConfig config : new ModelConfig[]{TinyModels.mistral(61).withSlidingWindow(3, 0),
                TinyModels.qwen2Tied(61).withSlidingWindow(4, 1), TinyModels.gemma2(61, 1.0, 1.5),
                TinyModels.gemma3(61, 1.0, 1.5)}) {
            Path at = dir.resolve(config.architecture());
            RandomCheckpoint.write(at, config, 22, 0.2);
            Checkpoint cp = Checkpoint.open(at);
            LoraParameters adapter = adapter(config, 3);
            try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32)) {
                int[] prompt = {1, 5, 9, 3, 40, 7};
                for (LoraParameters lora : new LoraParameters[]{null, adapter}) {
                    int[] want = referenceGreedy(cp, lora, prompt, 12);
                    assertThat(greedy(model, lora, Decoder.Mode.CACHED, prompt, 12)).as("%s cached, adapter %s",
                            config.architecture(), lora != null).containsExactly(want);
                    assertThat(greedy(model, lora, Decoder.Mode.RECOMPUTE, prompt, 12)).as("recomputed").containsExactly(want);
                }
            }
        }
    }

    @Test
    void phi3CachedGreedyTokensWithPartialRotaryAndASlidingWindowEqualRecomputationAndTheReference() throws IOException {
        // fused qkv_proj and gate_up_proj with adapters on them; a window of 3 against 6 + 12 tokens; 12 of 16 dimensions rotated
        ModelConfig config = TinyModels.phi4Mini(61).withSlidingWindow(3, 0);
        RandomCheckpoint.write(dir, config, 23, 0.2);
        Checkpoint cp = Checkpoint.open(dir);
        LoraParameters adapter = adapter(config, 3);
        try (LlamaModel model = LlamaModel.load(cp, Device.cpu(), DataType.FLOAT32)) {
            int[] prompt = {1, 5, 9, 3, 40, 7};
            for (LoraParameters lora : new LoraParameters[]{null, adapter}) {
                int[] want = referenceGreedy(cp, lora, prompt, 12);
                assertThat(greedy(model, lora, Decoder.Mode.CACHED, prompt, 12)).as("cached, adapter %s", lora != null).containsExactly(want);
                assertThat(greedy(model, lora, Decoder.Mode.RECOMPUTE, prompt, 12)).as("recomputed").containsExactly(want);
            }
            assertThat(referenceGreedy(cp, adapter, prompt, 12)).as("the adapter changes the tokens")
                    .isNotEqualTo(referenceGreedy(cp, null, prompt, 12));
        }
    }

    @Test
    void cachedGreedyTokensEqualRecomputationAndTheReferenceOnTheQuickstartBase() throws IOException {
        Checkpoint cp = Checkpoint.open(QUICKSTART);
        LoraParameters adapter = adapter(quickstart.config(), 4);
        for (LoraParameters lora : new LoraParameters[]{null, adapter}) {
            int[] want = referenceGreedy(cp, lora, versePrompt, 16);
            assertThat(greedy(quickstart.model(), lora, Decoder.Mode.CACHED, versePrompt, 16)).as("cached, adapter %s", lora != null)
                    .containsExactly(want);
            assertThat(greedy(quickstart.model(), lora, Decoder.Mode.RECOMPUTE, versePrompt, 16)).as("recomputed").containsExactly(want);
        }
    }

    @Test
    void theSameSeedGivesTheSameSampleAndTopPNearZeroIsGreedy() throws IOException {
        Decoder decoder = new Decoder(quickstart.model(), null, Decoder.Mode.CACHED);
        StopRule stop = new StopRule(24, Set.of(), List.of(), quickstart.tokenizer()::decode);
        Sampling seven = new Sampling(1.0, 0.95, 7);
        String first = decoder.run(versePrompt, seven, seven.random(0), stop).text();
        assertThat(decoder.run(versePrompt, seven, seven.random(0), stop).text()).isEqualTo(first);
        Sampling eight = new Sampling(1.0, 0.95, 8);
        assertThat(decoder.run(versePrompt, eight, eight.random(0), stop).text()).isNotEqualTo(first);

        Sampling nucleus = new Sampling(1.0, 1e-9, 7);
        String greedy = decoder.run(versePrompt, Sampling.greedy(), null, stop).text();
        assertThat(decoder.run(versePrompt, nucleus, nucleus.random(0), stop).text()).isEqualTo(greedy).isNotEqualTo(first);
    }

    @Test
    void stopsAtAStopStringAtEosAndAfterMaxNewTokens() throws IOException {
        Decoder decoder = new Decoder(quickstart.model(), null, Decoder.Mode.CACHED);
        Completion full = decoder.run(versePrompt, Sampling.greedy(), null,
                new StopRule(20, Set.of(), List.of(), quickstart.tokenizer()::decode));
        assertThat(full.stopReason()).isEqualTo(StopReason.MAX_NEW_TOKENS);
        assertThat(full.tokens()).hasSize(20);

        String stopString = full.text().substring(full.text().length() / 2, full.text().length() / 2 + 3);
        Completion stopped = decoder.run(versePrompt, Sampling.greedy(), null,
                new StopRule(20, Set.of(), List.of("never printed", stopString), quickstart.tokenizer()::decode));
        assertThat(stopped.stopReason()).isEqualTo(StopReason.STOP_STRING);
        assertThat(stopped.text()).isEqualTo(full.text().substring(0, full.text().indexOf(stopString)));
        assertThat(stopped.tokens().length).isLessThan(20);
        assertThat(stopped.tokens()).containsExactly(Arrays.copyOf(full.tokens(), stopped.tokens().length));

        int eos = full.tokens()[4];
        int firstEos = Arrays.stream(full.tokens()).boxed().toList().indexOf(eos);
        Completion ended = decoder.run(versePrompt, Sampling.greedy(), null,
                new StopRule(20, Set.of(eos), List.of(), quickstart.tokenizer()::decode));
        assertThat(ended.stopReason()).isEqualTo(StopReason.EOS);
        assertThat(ended.tokens()).containsExactly(Arrays.copyOf(full.tokens(), firstEos + 1));
        assertThat(ended.text()).isEqualTo(quickstart.tokenizer().decode(Arrays.copyOf(full.tokens(), firstEos)));
    }

    @Test
    void stopsWhenTheContextIsFull() throws IOException {
        int context = quickstart.config().maxPositionEmbeddings();
        Completion c = new Decoder(quickstart.model(), null, Decoder.Mode.CACHED)
                .run(versePrompt, Sampling.greedy(), null, StopRule.maxNewTokens(context));
        assertThat(c.stopReason()).isEqualTo(StopReason.CONTEXT_LENGTH);
        assertThat(c.tokens()).hasSize(context - versePrompt.length);
    }

    @Test
    void readsEosIdsAsAnIdOrAListPreferringTheGenerationConfig() throws IOException {
        RandomCheckpoint.write(dir, TinyModels.llama(40), 1);
        assertThat(EosTokens.of(dir)).containsExactly(2);
        Files.writeString(dir.resolve(EosTokens.GENERATION_CONFIG), "{\"eos_token_id\": [7, 2, 9]}");
        assertThat(EosTokens.of(dir)).containsExactlyInAnyOrder(2, 7, 9);
    }

    private static int[] greedy(LlamaModel model, LoraParameters adapter, Decoder.Mode mode, int[] prompt, int n) {
        try (NDManager m = model.manager().newSubManager()) {
            Decoder d = new Decoder(model, adapter == null ? null : adapter.arrays(m, false, false), mode);
            return d.run(prompt, Sampling.greedy(), null, StopRule.maxNewTokens(n)).tokens();
        }
    }

    /** Greedy decoding by the plain-Java forward pass over the whole sequence each step. */
    private static int[] referenceGreedy(Checkpoint cp, LoraParameters adapter, int[] prompt, int n) throws IOException {
        ReferenceForward ref = new ReferenceForward(cp, adapter == null ? Map.of() : adapter.tensors(),
                adapter == null ? 0 : adapter.config().scaling());
        int[] seq = Arrays.copyOf(prompt, prompt.length + n);
        for (int len = prompt.length; len < seq.length; len++) {
            double[][] logits = ref.logits(Arrays.copyOf(seq, len));
            double[] last = logits[len - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) {
                if (last[v] > last[best]) {
                    best = v;
                }
            }
            seq[len] = best;
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    /** An adapter on every projection with B non-zero, so it changes what the model says. */
    private static LoraParameters adapter(ModelConfig config, long seed) {
        LoraParameters lora = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, config.modules(), "test"), config, seed);
        Random r = new Random(seed);
        lora.tensors().forEach((name, t) -> {
            if (!LoraParameters.isA(name)) {
                for (int i = 0; i < t.values().length; i++) {
                    t.values()[i] = (float) (r.nextGaussian() * 0.1);
                }
            }
        });
        return lora;
    }
}
