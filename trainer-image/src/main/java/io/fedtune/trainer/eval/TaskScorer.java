package io.fedtune.trainer.eval;

import ai.djl.ndarray.NDManager;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.trainer.data.Chunker;
import io.fedtune.trainer.data.TextTokenizer;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.generate.EosTokens;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LoraParameters;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Scores eval sets by their task on the base model with an optional adapter. Every text is framed as training frames
 * it: the model's BOS, then the prompt's tokens; a choice, reference or answer is tokenised on its own and follows them.
 */
public final class TaskScorer {
    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final Chunker chunker;
    private final Integer bos;
    private final Set<Integer> eosIds;
    private final int maxSequenceLength;
    private final int batchSize;

    /** @param batchSize the most sequences per forward pass (training's batch size bounds memory the same way) */
    public TaskScorer(BaseModel base, int maxSequenceLength, int batchSize) throws IOException {
        this.model = base.model();
        this.tokenizer = base.tokenizer();
        this.chunker = base.chunker(maxSequenceLength);
        this.bos = base.bos();
        Set<Integer> eos = new java.util.TreeSet<>(EosTokens.of(base.checkpoint().dir()));
        if (base.config().eosTokenId() != null) {
            eos.add(base.config().eosTokenId());
        }
        this.eosIds = Set.copyOf(eos);
        this.maxSequenceLength = Math.min(maxSequenceLength, base.config().maxPositionEmbeddings());
        this.batchSize = batchSize;
    }

    public TaskScore score(TaskData data, LoraParameters adapter) {
        if (data.task() == EvalTask.LanguageModeling) {
            return languageModeling(data, adapter);
        }
        // the adapter's arrays once for the whole set, freed with it
        try (NDManager arrays = model.manager().newSubManager()) {
            LoraArrays lora = adapter == null ? null : adapter.arrays(arrays, false, false);
            return data.task() == EvalTask.Generation
                    ? new GenerationScoring(this).score(data.prompts(), data.maxNewTokens(), lora).score()
                    : new ChoiceScoring(this).score(data.task(), data.questions(), lora).score();
        }
    }

    /** Each length class is evaluated on its own; the set's loss is their token-weighted mean, so nothing runs twice. */
    private TaskScore languageModeling(TaskData data, LoraParameters adapter) {
        Map<String, List<TokenSequence>> byClass = new LinkedHashMap<>();
        for (TokenSequence s : chunker.sequences(data.texts())) {
            byClass.computeIfAbsent(LengthClass.of(s.length(), maxSequenceLength), k -> new ArrayList<>()).add(s);
        }
        ScoreTally tally = new ScoreTally(data.task());
        byClass.forEach((c, sequences) -> {
            Evaluation.Result r = Evaluation.run(model, adapter, sequences, batchSize);
            if (r.tokens() > 0) {
                tally.addSequences(c, r.meanLoss() * r.tokens(), r.tokens(), sequences.size());
            }
        });
        return tally.build();
    }

    LlamaModel model() {
        return model;
    }

    TextTokenizer tokenizer() {
        return tokenizer;
    }

    Set<Integer> eosIds() {
        return eosIds;
    }

    int maxSequenceLength() {
        return maxSequenceLength;
    }

    int batchSize() {
        return batchSize;
    }

    Loglikelihood loglikelihood() {
        return new Loglikelihood(model, maxSequenceLength, batchSize);
    }

    /**
     * The BOS and the prompt's tokens. Without a BOS an empty prompt would leave nothing to predict the first answer
     * token from: the EOS stands in, as lm-eval does.
     */
    int[] context(String prompt) {
        int[] text = tokenizer.encode(prompt);
        Integer first = bos != null ? bos : text.length == 0 && !eosIds.isEmpty() ? eosIds.iterator().next() : null;
        if (first == null) {
            return text;
        }
        int[] ids = new int[text.length + 1];
        ids[0] = first;
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }
}
