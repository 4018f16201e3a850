package io.fedtune.trainer.eval;

import java.util.List;

/** A Classification or MultipleChoice record: the prompt, the choices scored as its continuation, the gold choice's index. */
public record ChoiceQuestion(String prompt, List<String> choices, int answer) {
    public ChoiceQuestion {
        choices = List.copyOf(choices);
        if (answer < 0 || answer >= choices.size()) {
            throw new IllegalArgumentException("answer " + answer + " is not one of " + choices.size() + " choices");
        }
    }
}
