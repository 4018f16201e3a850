package io.fedtune.trainer.eval;

import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.trainer.model.LoraArrays;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Classification and MultipleChoice: every choice scored as the prompt's continuation by its summed log-likelihood.
 * Accuracy takes the argmax of the sums, AccuracyNorm the argmax of each sum divided by the choice's length in
 * characters (lm-eval-harness's acc and acc_norm; ties go to the first choice); Loss is the gold choice's NLL per token.
 */
final class ChoiceScoring {
    private final TaskScorer scorer;

    ChoiceScoring(TaskScorer scorer) {
        this.scorer = scorer;
    }

    /** One question's result: the choice each rule picked, and the gold choice's log-likelihood and tokens. */
    record Answer(int picked, int pickedNorm, double goldLogLikelihood, int goldTokens, String lengthClass) {
    }

    record Scored(List<Answer> answers, TaskScore score) {
    }

    Scored score(EvalTask task, List<ChoiceQuestion> questions, LoraArrays lora) {
        List<Loglikelihood.Request> requests = new ArrayList<>();
        List<Integer> firstRequest = new ArrayList<>();
        for (ChoiceQuestion q : questions) {
            int[] context = scorer.context(q.prompt());
            firstRequest.add(requests.size());
            for (String choice : q.choices()) {
                requests.add(new Loglikelihood.Request(context, scorer.tokenizer().encode(choice)));
            }
        }
        List<Loglikelihood.Result> results = scorer.loglikelihood().score(requests, lora);
        ScoreTally tally = new ScoreTally(task);
        List<Answer> answers = new ArrayList<>();
        for (int i = 0; i < questions.size(); i++) {
            ChoiceQuestion q = questions.get(i);
            int first = firstRequest.get(i);
            int picked = 0;
            int pickedNorm = 0;
            for (int c = 1; c < q.choices().size(); c++) {
                if (results.get(first + c).logLikelihood() > results.get(first + picked).logLikelihood()) {
                    picked = c;
                }
                if (normalised(results.get(first + c), q.choices().get(c))
                        > normalised(results.get(first + pickedNorm), q.choices().get(pickedNorm))) {
                    pickedNorm = c;
                }
            }
            Loglikelihood.Result gold = results.get(first + q.answer());
            String lengthClass = LengthClass.of(requests.get(first + q.answer()).length(scorer.maxSequenceLength()),
                    scorer.maxSequenceLength());
            Answer a = new Answer(picked, pickedNorm, gold.logLikelihood(), gold.tokens(), lengthClass);
            answers.add(a);
            tally.add(lengthClass, -gold.logLikelihood(), gold.tokens(), Map.of(
                    EvalMetric.Accuracy, picked == q.answer() ? 1.0 : 0.0,
                    EvalMetric.AccuracyNorm, pickedNorm == q.answer() ? 1.0 : 0.0));
        }
        return new Scored(answers, tally.build());
    }

    private static double normalised(Loglikelihood.Result r, String choice) {
        return r.logLikelihood() / Math.max(1, choice.length());
    }
}
