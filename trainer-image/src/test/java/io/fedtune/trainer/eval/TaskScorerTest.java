package io.fedtune.trainer.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.DataException;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.model.ReferenceForward;
import io.fedtune.trainer.pretrain.ByteLevelBpe;
import io.fedtune.trainer.train.LoraParameters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Each task's metrics against values computed here from the plain-Java reference forward pass: log-likelihoods,
 * argmaxes, greedy answers.
 */
class TaskScorerTest {
    static final String[] WORDS = {"the", "river", "runs", "to", "sea", "and", "light", "was", "upon", "waters", "good", "day"};
    static final int MAX_SEQ = 24;
    static Path base;
    static BaseModel model;
    static Checkpoint checkpoint;
    static LoraParameters adapter;

    @TempDir
    Path dir;

    @BeforeAll
    static void fixtures(@TempDir Path tmp) throws IOException {
        StringBuilder corpus = new StringBuilder();
        Random r = new Random(5);
        for (int i = 0; i < 400; i++) {
            corpus.append(WORDS[r.nextInt(WORDS.length)]).append(i % 13 == 12 ? ".\n" : " ");
        }
        ByteLevelBpe bpe = ByteLevelBpe.train(corpus.toString(), 300);
        ModelConfig config = new ModelConfig("LlamaForCausalLM", bpe.vocabSize(), 32, 48, 2, 4, 2, 8, 1e-5, 10000.0, true, false,
                128, ByteLevelBpe.BOS, ByteLevelBpe.EOS);
        base = tmp.resolve("base");
        RandomCheckpoint.write(base, config, 11, 0.3);
        bpe.write(base.resolve("tokenizer.json"));
        model = BaseModel.open(base, new Placement(Device.cpu(), DataType.FLOAT32));
        checkpoint = Checkpoint.open(base);
        adapter = LoraParameters.initial(new AdapterConfig(4, 8, 0.0, List.of(LoraTarget.Q_PROJ, LoraTarget.V_PROJ), "test"),
                config, 3);
        Random b = new Random(4);
        adapter.tensors().forEach((name, t) -> {
            if (!LoraParameters.isA(name)) {
                for (int i = 0; i < t.values().length; i++) {
                    t.values()[i] = (float) (b.nextGaussian() * 0.2);
                }
            }
        });
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Summed log-likelihood of the continuation after the context, cut from the left to MAX_SEQ tokens, by the reference. */
    static double[] referenceLoglik(ReferenceForward ref, int[] context, int[] continuation) throws IOException {
        int[] all = Arrays.copyOf(context, context.length + continuation.length);
        System.arraycopy(continuation, 0, all, context.length, continuation.length);
        int[] window = all.length <= MAX_SEQ ? all : Arrays.copyOfRange(all, all.length - MAX_SEQ, all.length);
        double[][] logits = ref.logits(Arrays.copyOf(window, window.length - 1));
        double sum = 0;
        int scored = Math.min(continuation.length, window.length - 1);
        for (int t = window.length - 1 - scored; t < window.length - 1; t++) {
            sum += logSoftmax(logits[t], window[t + 1]);
        }
        return new double[]{sum, scored};
    }

    static double logSoftmax(double[] logits, int target) {
        double max = Arrays.stream(logits).max().orElseThrow();
        double z = 0;
        for (double l : logits) {
            z += Math.exp(l - max);
        }
        return logits[target] - max - Math.log(z);
    }

    static int[] context(String prompt) {
        int[] text = model.tokenizer().encode(prompt);
        int[] ids = new int[text.length + 1];
        ids[0] = ByteLevelBpe.BOS;
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }

    static String prompt(Random r, int words) {
        StringBuilder sb = new StringBuilder();
        for (int w = 0; w < words; w++) {
            sb.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
        }
        return sb.toString();
    }

    @Test
    void classificationPicksTheLabelWithTheHighestLoglikelihoodRawAndPerCharacter() throws IOException {
        // one short label and one long one: per token the long one loses, per character it often wins
        List<String> labels = List.of("sea", "the river runs to the sea");
        Random r = new Random(7);
        List<String> lines = new ArrayList<>();
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            // the last prompt is longer than the window: its context is cut from the left
            String p = prompt(r, i == 11 ? 30 : 1 + r.nextInt(8));
            String label = labels.get(r.nextInt(2));
            records.add(new String[]{p, label});
            lines.add("{\"prompt\":\"" + p + "\",\"label\":\"" + label + "\"}");
        }
        Path file = Files.write(dir.resolve("cls.jsonl"), lines);

        for (LoraParameters lora : new LoraParameters[]{null, adapter}) {
            ReferenceForward ref = new ReferenceForward(checkpoint, lora == null ? Map.of() : lora.tensors(),
                    lora == null ? 0 : lora.config().scaling());
            List<String> choices = List.copyOf(new TreeSet<>(labels));
            double hits = 0;
            double normHits = 0;
            double nll = 0;
            double tokens = 0;
            int disagreements = 0;
            Map<String, double[]> byClass = new HashMap<>();
            for (String[] rec : records) {
                int[] ctx = context(rec[0]);
                int best = 0;
                int bestNorm = 0;
                double[][] ll = new double[choices.size()][];
                for (int c = 0; c < choices.size(); c++) {
                    ll[c] = referenceLoglik(ref, ctx, model.tokenizer().encode(choices.get(c)));
                    if (ll[c][0] > ll[best][0]) {
                        best = c;
                    }
                    if (ll[c][0] / choices.get(c).length() > ll[bestNorm][0] / choices.get(bestNorm).length()) {
                        bestNorm = c;
                    }
                }
                int gold = choices.indexOf(rec[1]);
                hits += best == gold ? 1 : 0;
                normHits += bestNorm == gold ? 1 : 0;
                disagreements += best != bestNorm ? 1 : 0;
                nll -= ll[gold][0];
                tokens += ll[gold][1];
                String cls = LengthClass.of(Math.min(MAX_SEQ, ctx.length + model.tokenizer().encode(rec[1]).length), MAX_SEQ);
                double[] c = byClass.computeIfAbsent(cls, k -> new double[2]);
                c[0] += best == gold ? 1 : 0;
                c[1]++;
            }
            assertThat(disagreements).as("the fixture has records where length normalisation changes the answer").isPositive();

            TaskScore score = new TaskScorer(model, MAX_SEQ, 3).score(
                    TaskData.read(file, EvalTask.Classification, DataFormat.TEXT, null), lora);

            assertThat(score.examples()).isEqualTo(12);
            assertThat(score.metric(EvalMetric.Accuracy)).isCloseTo(hits / 12, within(1e-12));
            assertThat(score.metric(EvalMetric.AccuracyNorm)).isCloseTo(normHits / 12, within(1e-12));
            assertThat(score.metric(EvalMetric.Loss)).isCloseTo(nll / tokens, within(1e-4));
            assertThat(score.loss()).isEqualTo(score.metric(EvalMetric.Loss));
            assertThat(score.tokens()).isEqualTo((long) tokens);
            assertThat(score.metrics()).containsOnlyKeys(EvalMetric.Accuracy, EvalMetric.AccuracyNorm, EvalMetric.Loss);
            assertThat(score.byLength()).containsOnlyKeys(byClass.keySet());
            byClass.forEach((cls, c) -> assertThat(score.byLength().get(cls).metric(EvalMetric.Accuracy))
                    .as(cls).isCloseTo(c[0] / c[1], within(1e-12)));
        }
    }

    @Test
    void multipleChoiceTakesTheAnswerAsAnIndexOrAsTheChoiceAndBatchingDoesNotChangeTheScores() throws IOException {
        Path file = Files.write(dir.resolve("mc.jsonl"), List.of(
                "{\"prompt\":\"the river \",\"choices\":[\"runs\",\"was upon the waters\",\"day\"],\"answer\":1}",
                "{\"prompt\":\"good \",\"choices\":[\"day\",\"light and sea\"],\"answer\":\"day\"}",
                "{\"prompt\":\"and light was upon the \",\"choices\":[\"sea\",\"waters\",\"river runs\",\"to\"],\"answer\":3}"));
        TaskData data = TaskData.read(file, EvalTask.MultipleChoice, DataFormat.TEXT, null);
        assertThat(data.questions()).extracting(ChoiceQuestion::answer).containsExactly(1, 0, 3);

        ReferenceForward ref = new ReferenceForward(checkpoint, adapter.tensors(), adapter.config().scaling());
        TaskScorer oneByOne = new TaskScorer(model, MAX_SEQ, 1);
        TaskScorer batched = new TaskScorer(model, MAX_SEQ, 8);
        try (NDManager m = model.model().manager().newSubManager()) {
            var lora = adapter.arrays(m, false, false);
            List<ChoiceScoring.Answer> single = new ChoiceScoring(oneByOne).score(EvalTask.MultipleChoice, data.questions(), lora)
                    .answers();
            List<ChoiceScoring.Answer> several = new ChoiceScoring(batched).score(EvalTask.MultipleChoice, data.questions(), lora)
                    .answers();
            for (int i = 0; i < single.size(); i++) {
                ChoiceQuestion q = data.questions().get(i);
                double[] gold = referenceLoglik(ref, context(q.prompt()), model.tokenizer().encode(q.choices().get(q.answer())));
                assertThat(several.get(i).goldLogLikelihood()).isCloseTo(gold[0], within(1e-4))
                        .isCloseTo(single.get(i).goldLogLikelihood(), within(1e-4));
                assertThat(several.get(i).picked()).isEqualTo(single.get(i).picked());
                assertThat(several.get(i).pickedNorm()).isEqualTo(single.get(i).pickedNorm());
            }
        }
    }

    @Test
    void generationScoresTheGreedyAnswerTheReferenceForwardPassProduces() throws IOException {
        int maxNew = 6;
        List<String> prompts = List.of("the river runs", "and light was upon", "good");
        ReferenceForward ref = new ReferenceForward(checkpoint, Map.of(), 0);
        List<String> expected = new ArrayList<>();
        for (String p : prompts) {
            expected.add(referenceAnswer(ref, context(p), maxNew));
        }
        // the first prompt's reference is its greedy answer in other case and punctuation; the others share nothing with theirs
        List<String> references = List.of(expected.get(0).toUpperCase(java.util.Locale.ROOT) + "!", "zzz", "qqq");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            lines.add(i == 1
                    ? "{\"prompt\":\"" + prompts.get(i) + "\",\"references\":[\"" + references.get(i) + "\",\"yyy\"]}"
                    : "{\"prompt\":\"" + prompts.get(i) + "\",\"completion\":" + new com.fasterxml.jackson.databind.ObjectMapper()
                    .writeValueAsString(references.get(i)) + "}");
        }
        Path file = Files.write(dir.resolve("gen.jsonl"), lines);
        TaskData data = TaskData.read(file, EvalTask.Generation, DataFormat.TEXT, maxNew);
        TaskScorer scorer = new TaskScorer(model, MAX_SEQ, 4);

        GenerationScoring.Scored scored = new GenerationScoring(scorer).score(data.prompts(), data.maxNewTokens(), null);
        assertThat(scored.answers()).extracting(GenerationScoring.Answer::text).containsExactlyElementsOf(expected);
        assertThat(expected.get(0)).as("a non-empty first answer, so exact match is not vacuous").isNotBlank();

        double nll = 0;
        double tokens = 0;
        double em = 0;
        double rouge = 0;
        for (int i = 0; i < prompts.size(); i++) {
            double[] ll = referenceLoglik(ref, context(prompts.get(i)), model.tokenizer().encode(references.get(i)));
            nll -= ll[0];
            tokens += ll[1];
            em += i == 0 ? 1 : 0;
            rouge += i == 0 ? 1 : 0;
        }
        TaskScore score = scorer.score(data, null);
        assertThat(score.metric(EvalMetric.ExactMatch)).isCloseTo(em / 3, within(1e-12));
        assertThat(score.metric(EvalMetric.RougeL)).isCloseTo(rouge / 3, within(1e-12));
        assertThat(score.metric(EvalMetric.Loss)).isCloseTo(nll / tokens, within(1e-4));
        assertThat(score.metrics()).containsOnlyKeys(EvalMetric.ExactMatch, EvalMetric.RougeL, EvalMetric.Loss);
    }

    /** Greedy tokens by the reference until an EOS, a newline in the text or maxNew tokens; the text before the newline. */
    static String referenceAnswer(ReferenceForward ref, int[] prompt, int maxNew) throws IOException {
        int[] seq = Arrays.copyOf(prompt, prompt.length + maxNew);
        int len = prompt.length;
        while (len < seq.length) {
            double[] last = ref.logits(Arrays.copyOf(seq, len))[len - 1];
            int best = 0;
            for (int v = 1; v < last.length; v++) {
                if (last[v] > last[best]) {
                    best = v;
                }
            }
            if (best == ByteLevelBpe.EOS) {
                break;
            }
            seq[len++] = best;
            if (model.tokenizer().decode(Arrays.copyOfRange(seq, prompt.length, len)).contains("\n")) {
                break;
            }
        }
        String text = model.tokenizer().decode(Arrays.copyOfRange(seq, prompt.length, len));
        int cut = text.indexOf('\n');
        return cut >= 0 ? text.substring(0, cut) : text;
    }

    @Test
    void languageModelingReportsLossAndPerplexityPerLengthClass() throws IOException {
        Random r = new Random(3);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lines.add("{\"text\":\"" + prompt(r, 1 + r.nextInt(16)).strip() + "\"}");
        }
        Path file = Files.write(dir.resolve("lm.jsonl"), lines);
        TaskScore score = new TaskScorer(model, MAX_SEQ, 4).score(TaskData.read(file, EvalTask.LanguageModeling,
                DataFormat.TEXT, null), adapter);
        assertThat(score.metrics()).containsOnlyKeys(EvalMetric.Loss, EvalMetric.Perplexity);
        assertThat(score.metric(EvalMetric.Perplexity)).isCloseTo(Math.exp(score.loss()), within(1e-9));
        double weighted = score.byLength().values().stream().mapToDouble(c -> c.loss() * c.tokens()).sum();
        assertThat(score.loss()).isCloseTo(weighted / score.tokens(), within(1e-9));
        assertThat(score.byLength().values().stream().mapToLong(TaskScore::examples).sum()).isEqualTo(score.examples());
    }

    @Test
    void malformedRecordsAreSkippedUpToATenthElseTheSetFailsNamingTheLineAndTheField() throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            lines.add("{\"prompt\":\"p" + i + "\",\"choices\":[\"a\",\"b\"],\"answer\":0}");
        }
        lines.set(2, "{\"prompt\":\"p\",\"options\":[\"a\",\"b\"],\"answer\":0}");
        Path oneBad = Files.write(dir.resolve("one-bad.jsonl"), lines);
        assertThat(TaskData.read(oneBad, EvalTask.MultipleChoice, DataFormat.TEXT, null).size()).isEqualTo(9);

        lines.set(5, "{\"prompt\":\"p\",\"choices\":[\"a\",\"b\"],\"answer\":2}");
        Path twoBad = Files.write(dir.resolve("two-bad.jsonl"), lines);
        assertThatThrownBy(() -> TaskData.read(twoBad, EvalTask.MultipleChoice, DataFormat.TEXT, null))
                .isInstanceOfSatisfying(DataException.class, e -> assertThat(e.isEmpty()).isFalse())
                .hasMessageContaining("two-bad.jsonl")
                .hasMessageContaining("2 of 10 lines")
                .hasMessageContaining("line 3: \"choices\" is not a non-empty array of strings")
                .hasMessageContaining(TaskData.shape(EvalTask.MultipleChoice));

        Path noLabels = Files.write(dir.resolve("no-labels.jsonl"), List.of("{\"prompt\":\"p\",\"completion\":\"c\"}"));
        assertThatThrownBy(() -> TaskData.read(noLabels, EvalTask.Classification, DataFormat.TEXT, null))
                .isInstanceOfSatisfying(DataException.class, e -> assertThat(e.isEmpty()).isTrue())
                .hasMessageContaining("\"label\"").hasMessageContaining(TaskData.shape(EvalTask.Classification));
    }
}
