package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.trainer.aggregate.privacy.RdpAccountant;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The run's cumulative RDP after each round, one small JSON file per round next to the optimizer state, so epsilon
 * composes over rounds even when the noise settings change between them.
 *
 * @param round  the last round included
 * @param orders the RDP orders
 * @param rdp    cumulative RDP at each order
 */
public record PrivacyLedger(int round, double[] orders, double[] rdp) {

    public static String fileName(int round) {
        return String.format(Locale.ROOT, "privacy-round-%04d.json", round);
    }

    /**
     * The ledger after {@code round - 1} rounds. Where it is missing though earlier rounds ran, they are assumed to have
     * had this round's mechanism: an over-estimate only if they had none.
     */
    public static PrivacyLedger before(int round, Path previousFile, double[] perRound) throws IOException {
        if (previousFile != null && Files.isRegularFile(previousFile)) {
            PrivacyLedger l = ContractJson.read(Files.readString(previousFile, StandardCharsets.UTF_8), PrivacyLedger.class);
            if (Arrays.equals(l.orders(), RdpAccountant.ORDERS)) {
                return l;
            }
        }
        double[] assumed = new double[perRound.length];
        for (int i = 0; i < assumed.length; i++) {
            assumed[i] = perRound[i] * (round - 1);
        }
        return new PrivacyLedger(round - 1, RdpAccountant.ORDERS, assumed);
    }

    public PrivacyLedger plus(double[] perRound) {
        return new PrivacyLedger(round + 1, orders, RdpAccountant.compose(rdp, perRound));
    }

    public void write(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, ContractJson.write(this), StandardCharsets.UTF_8);
    }
}
