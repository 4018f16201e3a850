package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Read-your-own-writes for run status. JOSDK 5 does not cache the primary after a status write, so the reconciles
 * right after one may get a version from before it; the round state machine must then see the status it wrote (a
 * recorded round is never recorded twice). Remembers, per run, the last written object and every version it
 * superseded; a version that is neither (someone else wrote, or the cache moved past it) drops the entry.
 */
final class WrittenStatus {
    private record Entry(FederatedRun written, Set<String> superseded) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    /** The run as this operator last wrote it when {@code run} is a version that write superseded, else {@code run}. */
    FederatedRun latest(FederatedRun run) {
        String key = key(run);
        Entry entry = entries.get(key);
        if (entry == null) {
            return run;
        }
        String version = run.getMetadata().getResourceVersion();
        if (entry.superseded().contains(version)) {
            return entry.written();
        }
        if (!version.equals(entry.written().getMetadata().getResourceVersion())) {
            entries.remove(key);
        }
        return run;
    }

    void remember(String patchedFrom, FederatedRun written) {
        entries.compute(key(written), (k, previous) -> {
            Set<String> superseded = new HashSet<>();
            if (previous != null) {
                superseded.addAll(previous.superseded());
                superseded.add(previous.written().getMetadata().getResourceVersion());
            }
            superseded.add(patchedFrom);
            return new Entry(written, superseded);
        });
    }

    void forget(FederatedRun run) {
        entries.remove(key(run));
    }

    static FederatedRunStatus statusOf(FederatedRun run) {
        return run.getStatus() != null ? run.getStatus() : new FederatedRunStatus();
    }

    private static String key(FederatedRun run) {
        return run.getMetadata().getNamespace() + "/" + run.getMetadata().getName();
    }
}
