package io.fedtune.api.contract;

import java.util.Arrays;
import java.util.Optional;

/**
 * Why a trainer or aggregation container failed: the {@code reason} of its termination message (CONTRACT.md), and the
 * operator's own reason for a container that ended without one. {@link #permanent()} is the retry rule: a permanent
 * failure would fail the same way again, so it is never retried.
 */
public enum FailureReason {
    InvalidTask(true),
    CheckpointInvalid(true),
    TokenizerMismatch(true),
    DataEmpty(true),
    DataMalformed(true),
    AccessDenied(true),
    AdapterMismatch(true),
    /**
     * An input's SHA-256 differs from the one the operator recorded for it (the global adapter a round starts from):
     * it changed in storage after it was written. The message names the key and both hashes. Never trained on or
     * averaged in, and not retried: the same object would be refused again.
     */
    InputTampered(true),
    /**
     * The run's object storage did not answer within the retry time; the message names its endpoint. The operator does
     * not charge it to the shard: it is the run's storage, and the round waits for it until its timeout.
     */
    StorageUnreachable(false),
    /**
     * The shard's own data storage ({@code spec.data.endpoint}, when it is not the run's) did not answer within the
     * retry time; the message names its endpoint. Charged to the shard like its other failures: its data owner's
     * store is down, not the run's.
     */
    DataUnreachable(false),
    TrainingDiverged(false),
    /**
     * The pod asked for a GPU ({@code FEDTUNE_DEVICE=gpu}) and has none it can use (none visible, no CUDA libtorch in the
     * image, an allocation on it failed): another node may have one, so it is retried.
     */
    GpuUnavailable(false),
    NoValidUpdates(false),
    /**
     * The scratch volume ({@code FEDTUNE_WORK_DIR} or the cache) filled up ("No space left on device"); the message
     * names the path. Retried: the next pod gets a fresh emptyDir, perhaps on a node with more disk.
     */
    ScratchFull(false),
    /**
     * The scratch directory is missing, read-only, or cannot be created; the message names the path. Retried: it is a
     * property of the node and its volume, not of the task, so another node may work.
     */
    ScratchUnwritable(false),
    /** The JVM ran out of heap (OutOfMemoryError); the message names -Xmx. Retried: the next attempt may fit. */
    OutOfMemory(false),
    /**
     * An object the task promises (base model, global adapter, data, a shard's update) is not there (404); the message
     * names the key. Retried a few times, as storage may lag behind the write that made it.
     */
    InputMissing(false),
    Internal(false),
    /** The container ended without a termination message (OOM kill, node loss, a crash before it could write one). */
    ContainerFailed(false),
    /**
     * The pod never started, and the operator cut it (the reasons below): stayed Pending with PodScheduled=False reason
     * Unschedulable past spec.participation.startTimeout (no node fits it; an autoscaler may add one next attempt).
     */
    PodUnschedulable(false),
    /** The kubelet could not pull the image (ErrImagePull, ImagePullBackOff, ErrImageNeverPull) past the grace. */
    ImagePullFailed(false),
    /** The image reference cannot be parsed (InvalidImageName): the same spec fails the same way. */
    ImageInvalid(true),
    /**
     * The kubelet cannot build the container (CreateContainerConfigError: a missing Secret or key, a root image under
     * runAsNonRoot) past the grace: fix the spec or the Secret; the next round tries again.
     */
    ContainerConfigInvalid(true),
    /** Pending past spec.participation.startTimeout for any other reason (a volume, a slow image pull). */
    StartTimeout(false);

    private final boolean permanent;

    FailureReason(boolean permanent) {
        this.permanent = permanent;
    }

    public boolean permanent() {
        return permanent;
    }

    /** The reason a termination message names; empty for a name this version does not know (a user's own image). */
    public static Optional<FailureReason> of(String name) {
        return Arrays.stream(values()).filter(r -> r.name().equals(name)).findFirst();
    }

    /** Unknown reasons are retried: only a reason known to be permanent stops the retries. */
    public static boolean isPermanent(String name) {
        return of(name).map(FailureReason::permanent).orElse(false);
    }
}
