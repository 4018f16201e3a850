package io.fedtune.trainer.eval;

import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.trainer.generate.Completion;
import io.fedtune.trainer.generate.Decoder;
import io.fedtune.trainer.generate.Sampling;
import io.fedtune.trainer.generate.StopRule;
import io.fedtune.trainer.model.LoraArrays;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Generation: a greedy answer per prompt (KV cache), which ends at an EOS, a newline (cut before it) or maxNewTokens,
 * scored by {@link AnswerText#exactMatch} and {@link AnswerText#rougeL} against the references; Loss is the first
 * reference's teacher-forced NLL per token.
 */
final class GenerationScoring {
    static final String ANSWER_END = "\n";
    private final TaskScorer scorer;

    GenerationScoring(TaskScorer scorer) {
        this.scorer = scorer;
    }

    record Answer(String text, double exactMatch, double rougeL, String lengthClass) {
    }

    record Scored(List<Answer> answers, TaskScore score) {
    }

    Scored score(List<GenerationPrompt> prompts, int maxNewTokens, LoraArrays lora) {
        int max = scorer.maxSequenceLength();
        int budget = Math.max(1, Math.min(maxNewTokens, max - 1));
        StopRule stop = new StopRule(budget, scorer.eosIds(), List.of(ANSWER_END), scorer.tokenizer()::decode);
        Decoder decoder = new Decoder(scorer.model(), lora, Decoder.Mode.CACHED);
        List<Loglikelihood.Request> references = new ArrayList<>();
        List<Answer> answers = new ArrayList<>();
        for (GenerationPrompt p : prompts) {
            int[] context = scorer.context(p.prompt());
            references.add(new Loglikelihood.Request(context, scorer.tokenizer().encode(p.references().get(0))));
            // the prompt loses tokens from the left so that it and the answer fit the window
            int[] prompt = context.length + budget <= max ? context
                    : Arrays.copyOfRange(context, context.length - (max - budget), context.length);
            Completion c = decoder.run(prompt, Sampling.greedy(), null, stop);
            String text = c.text();
            answers.add(new Answer(text, AnswerText.exactMatch(text, p.references()), AnswerText.rougeL(text, p.references()),
                    LengthClass.of(references.get(references.size() - 1).length(max), max)));
        }
        List<Loglikelihood.Result> losses = scorer.loglikelihood().score(references, lora);
        ScoreTally tally = new ScoreTally(EvalTask.Generation);
        for (int i = 0; i < answers.size(); i++) {
            Answer a = answers.get(i);
            tally.add(a.lengthClass(), -losses.get(i).logLikelihood(), losses.get(i).tokens(),
                    Map.of(EvalMetric.ExactMatch, a.exactMatch(), EvalMetric.RougeL, a.rougeL()));
        }
        return new Scored(answers, tally.build());
    }
}
