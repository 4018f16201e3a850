package io.fedtune.trainer.aggregate.verify;

import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.aggregate.OfferedUpdate;
import io.fedtune.trainer.aggregate.VerifiedUpdate;

/** What the round decided about one offered update: it counts, or it is refused and never averaged in. */
public sealed interface Verdict {

    OfferedUpdate offered();

    record Accepted(VerifiedUpdate update) implements Verdict {
        @Override
        public OfferedUpdate offered() {
            return update.offered();
        }
    }

    record Refused(OfferedUpdate offered, RefusalReason reason, String message) implements Verdict {
        public Refusal toRefusal() {
            return new Refusal(offered.shard(), reason, message);
        }
    }
}
