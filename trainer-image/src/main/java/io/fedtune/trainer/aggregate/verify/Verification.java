package io.fedtune.trainer.aggregate.verify;

import io.fedtune.trainer.aggregate.OfferedUpdate;
import io.fedtune.trainer.aggregate.WorkerResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Every offered update verified, two at a time, each read once; verdicts in offer order. */
public final class Verification {
    /** Verification threads; fixed, so results do not depend on the machine's core count. */
    private static final int LANES = 2;

    private Verification() {
    }

    public static List<Verdict> all(UpdateVerifier verifier, List<OfferedUpdate> updates) throws IOException {
        int lanes = Math.min(LANES, Math.max(1, updates.size()));
        ExecutorService pool = Executors.newFixedThreadPool(lanes);
        Verdict[] verdicts = new Verdict[updates.size()];
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int lane = 0; lane < lanes; lane++) {
                int l = lane;
                running.add(pool.submit(() -> {
                    for (int i = l; i < updates.size(); i += lanes) {
                        verdicts[i] = verifier.verify(updates.get(i));
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                WorkerResult.await(f);
            }
        } finally {
            pool.shutdownNow();
        }
        return Arrays.asList(verdicts);
    }
}
