package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Read-your-own-writes for run status. JOSDK 5 does not cache the primary after a status patch, so the reconcile right
 * after one may get the version the patch was made from; the round state machine must then see the status it wrote
 * (a recorded round is never recorded twice). Remembers, per run, the version patched from and the status written;
 * any other version means the cache has caught up (or someone else wrote), and the entry is dropped.
 */
final class WrittenStatus {
    private record Entry(String patchedFrom, FederatedRun written) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    /** The run as this operator last wrote it when {@code run} is the stale version it patched from, else {@code run}. */
    FederatedRun latest(FederatedRun run) {
        String key = key(run);
        Entry entry = entries.get(key);
        if (entry == null) {
            return run;
        }
        if (entry.patchedFrom().equals(run.getMetadata().getResourceVersion())) {
            return entry.written();
        }
        entries.remove(key);
        return run;
    }

    void remember(String patchedFrom, FederatedRun written) {
        entries.put(key(written), new Entry(patchedFrom, written));
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
