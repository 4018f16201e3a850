package io.fedtune.trainer.aggregate;

import io.fedtune.api.v1alpha1.PrivacySpec;
import io.fedtune.trainer.aggregate.privacy.ClientPrivacy;
import io.fedtune.trainer.aggregate.privacy.RdpAccountant;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A round's client-level differential privacy: the clipping and noise of {@link ClientPrivacy}, and the epsilon it
 * spends, composed with earlier rounds through the {@link PrivacyLedger}.
 */
public final class RoundPrivacy {
    private final PrivacySpec spec;
    private final ClientPrivacy mechanism;

    private RoundPrivacy(PrivacySpec spec) {
        this.spec = spec;
        this.mechanism = new ClientPrivacy(spec.clipNorm, spec.noiseMultiplier);
    }

    /** The round's privacy, or null where the spec has none. */
    public static RoundPrivacy of(PrivacySpec spec) {
        return spec == null ? null : new RoundPrivacy(spec);
    }

    public ClientPrivacy mechanism() {
        return mechanism;
    }

    /**
     * @param round   epsilon of this round alone
     * @param overall epsilon of the run so far
     */
    public record Epsilon(double round, double overall, double delta) {
    }

    /** Records this round in the ledger under stateDir and returns the epsilon spent. */
    public Epsilon account(int round, double participationRate, Path stateDir) throws IOException {
        double[] perRound = RdpAccountant.rdp(participationRate, mechanism.noiseMultiplier());
        PrivacyLedger before = PrivacyLedger.before(round, stateDir.resolve(PrivacyLedger.fileName(round - 1)), perRound);
        PrivacyLedger after = before.plus(perRound);
        after.write(stateDir.resolve(PrivacyLedger.fileName(round)));
        return new Epsilon(RdpAccountant.epsilon(perRound, spec.delta), RdpAccountant.epsilon(after.rdp(), spec.delta),
                spec.delta);
    }
}
