package io.fedtune.trainer.aggregate.verify;

import io.fedtune.api.contract.RefusalReason;
import io.fedtune.trainer.aggregate.AdapterLayout;
import io.fedtune.trainer.aggregate.OfferedUpdate;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** An update's tensor names, shapes and rank against the run's layout, from the safetensors header alone. */
final class LayoutCheck {
    private LayoutCheck() {
    }

    /**
     * @param requiredRank the rank every update must have, or null where ranks may differ
     * @return the update's rank
     */
    static int rank(SafetensorsReader reader, AdapterLayout layout, Integer requiredRank, OfferedUpdate offered)
            throws UpdateRefused, IOException {
        List<String> expectedNames = new ArrayList<>();
        for (AdapterLayout.Module m : layout.modules()) {
            expectedNames.add(m.aName());
            expectedNames.add(m.bName());
        }
        List<String> names = reader.names();
        if (!names.equals(expectedNames.stream().sorted().toList())) {
            List<String> missing = new ArrayList<>(expectedNames);
            missing.removeAll(names);
            List<String> extra = new ArrayList<>(names);
            extra.removeAll(expectedNames);
            throw new UpdateRefused(RefusalReason.WrongShape, "tensors differ from the run's layout: missing "
                    + abbreviate(missing) + ", unexpected " + abbreviate(extra));
        }
        int rank = (int) reader.info(layout.modules().get(0).aName()).shape()[0];
        for (AdapterLayout.Module m : layout.modules()) {
            long[] a = reader.info(m.aName()).shape();
            long[] b = reader.info(m.bName()).shape();
            if (a.length != 2 || b.length != 2 || a[1] != m.in() || b[0] != m.out()) {
                throw new UpdateRefused(RefusalReason.WrongShape, m.aName() + " " + Arrays.toString(a) + " / lora_B "
                        + Arrays.toString(b) + ", the model needs [r, " + m.in() + "] and [" + m.out() + ", r]");
            }
            if (a[0] != rank || b[1] != rank) {
                throw new UpdateRefused(RefusalReason.WrongRank, m.aName() + " has rank " + a[0] + "/" + b[1]
                        + ", other modules rank " + rank);
            }
        }
        if (requiredRank != null && rank != requiredRank) {
            throw new UpdateRefused(RefusalReason.WrongRank, "rank " + rank + ", the run's rank is " + requiredRank);
        }
        if (rank != offered.rank()) {
            throw new UpdateRefused(RefusalReason.WrongRank, "rank " + rank + ", the shard reported " + offered.rank());
        }
        return rank;
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 3 ? names.toString() : names.subList(0, 3) + " and " + (names.size() - 3) + " more";
    }
}
