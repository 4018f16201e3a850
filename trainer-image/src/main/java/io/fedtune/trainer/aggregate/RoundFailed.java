package io.fedtune.trainer.aggregate;

/** The round cannot produce a global adapter; the reason goes into the termination message. */
public final class RoundFailed extends Exception {
    private final String reason;

    public RoundFailed(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
