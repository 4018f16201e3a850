package io.fedtune.trainer.generate;

import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.data.TextTokenizer;
import io.fedtune.trainer.model.CheckpointInvalidException;

import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * How generate turns a prompt into the ids it completes, and the ids that end the completion. Text: the BOS the
 * tokenizer adds (none for Qwen), then the prompt's tokens; the checkpoint's EOS ids stop it. Chat: the prompt as one
 * user turn rendered by the chat template with add_generation_prompt true, tokenized without special tokens of the
 * tokenizer's own (the template writes them, BOS included where it has one), as Hugging Face's
 * apply_chat_template(tokenize=True) does; the EOS ids and the token the template closes an assistant turn with stop it.
 */
public final class PromptFraming {
    private final TextTokenizer tokenizer;
    private final Integer bos;
    private final ChatTemplate template;
    private final Set<Integer> stopIds;

    private PromptFraming(TextTokenizer tokenizer, Integer bos, ChatTemplate template, Set<Integer> stopIds) {
        this.tokenizer = tokenizer;
        this.bos = bos;
        this.template = template;
        this.stopIds = Collections.unmodifiableSet(stopIds);
    }

    /** @param bos null where the tokenizer adds none */
    public static PromptFraming text(TextTokenizer tokenizer, Integer bos, Set<Integer> eos) {
        return new PromptFraming(tokenizer, bos, null, new TreeSet<>(eos));
    }

    /**
     * @throws CheckpointInvalidException when the template's end-of-turn token is not one token of tokenizer.json
     */
    public static PromptFraming chat(TextTokenizer tokenizer, ChatTemplate template, Set<Integer> eos)
            throws CheckpointInvalidException, ChatTemplate.RenderFailed {
        Set<Integer> stop = new TreeSet<>(eos);
        var endOfTurn = template.endOfTurn();
        if (endOfTurn.isPresent()) {
            int[] ids = tokenizer.encode(endOfTurn.get());
            if (ids.length != 1) {
                throw new CheckpointInvalidException("the chat template closes assistant turns with " + endOfTurn.get()
                        + ", which tokenizer.json encodes as " + ids.length + " tokens, not one special token");
            }
            stop.add(ids[0]);
        }
        return new PromptFraming(tokenizer, null, template, stop);
    }

    public int[] ids(String prompt) throws ChatTemplate.RenderFailed {
        if (template != null) {
            return tokenizer.encode(template.generationPrompt(prompt));
        }
        int[] text = tokenizer.encode(prompt);
        if (bos == null) {
            return text;
        }
        int[] ids = new int[text.length + 1];
        ids[0] = bos;
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }

    public Set<Integer> stopIds() {
        return stopIds;
    }
}
