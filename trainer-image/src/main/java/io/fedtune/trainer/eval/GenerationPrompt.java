package io.fedtune.trainer.eval;

import java.util.List;

/** A Generation record: the prompt and the answers accepted for it (the first one is the one whose loss is reported). */
public record GenerationPrompt(String prompt, List<String> references) {
    public GenerationPrompt {
        references = List.copyOf(references);
        if (references.isEmpty()) {
            throw new IllegalArgumentException("a generation prompt needs a reference");
        }
    }
}
