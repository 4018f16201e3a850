package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.FailureReason;

/** The round cannot produce a global adapter; the reason goes into the termination message. */
public final class RoundFailed extends Exception {
    private final FailureReason reason;

    public RoundFailed(FailureReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public FailureReason reason() {
        return reason;
    }
}
