package io.fedtune.trainer.generate;

/** Why a completion ended, as the output's {@code stopReason} says it. */
public enum StopReason {
    /** the model produced an end-of-sequence token (not part of the completion) */
    EOS("eos"),
    /** the completion reached a stop string (the completion ends before it) */
    STOP_STRING("stop_string"),
    MAX_NEW_TOKENS("max_new_tokens"),
    /** prompt and completion filled the model's max_position_embeddings */
    CONTEXT_LENGTH("context_length");

    private final String label;

    StopReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
