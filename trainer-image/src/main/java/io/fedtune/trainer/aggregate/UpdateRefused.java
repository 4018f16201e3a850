package io.fedtune.trainer.aggregate;

/** A shard update failed a check; carries the reason the round's manifest reports. */
public final class UpdateRefused extends Exception {
    private final RefusalReason reason;

    public UpdateRefused(RefusalReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public RefusalReason reason() {
        return reason;
    }
}
