package io.fedtune.trainer.aggregate.verify;

import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.aggregate.OfferedUpdate;

/** A check an update failed, thrown where the check is made and turned into a {@link Verdict.Refused}. */
public final class UpdateRefused extends Exception {
    private final RefusalReason reason;

    UpdateRefused(RefusalReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    Verdict.Refused verdict(OfferedUpdate offered) {
        return new Verdict.Refused(offered, reason, getMessage());
    }
}
