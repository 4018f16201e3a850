package io.fedtune.trainer.data;

import java.io.IOException;

/** A tokenizer that is missing, unreadable or does not fit the model's vocabulary. */
public class TokenizerMismatchException extends IOException {
    public TokenizerMismatchException(String message) {
        super(message);
    }
}
