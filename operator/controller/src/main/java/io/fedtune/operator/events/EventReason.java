package io.fedtune.operator.events;

/** Every reason of a Kubernetes Event the operator records, with the Event's type. */
public enum EventReason {
    /** The run's preparation recorded every base model file's SHA-256 (status.baseModel). */
    Prepared(Type.Normal),
    /** A preparation attempt failed and another starts (the last one's failure is RunFailed). */
    PreparationFailed(Type.Warning),
    RoundStarted(Type.Normal),
    RoundFinished(Type.Normal),
    RunSucceeded(Type.Normal),
    /** The best adapter was copied to final/ (status.result); the message names its URI and SHA-256. */
    Published(Type.Normal),
    /** A publishing attempt failed and another starts (the last one's failure is RunFailed). */
    PublishingFailed(Type.Warning),
    Suspended(Type.Normal),
    ShardFailed(Type.Warning),
    ShardsCut(Type.Warning),
    UpdateRefused(Type.Warning),
    AggregationFailed(Type.Warning),
    RolledBack(Type.Warning),
    RoundFailed(Type.Warning),
    RunFailed(Type.Warning),
    /** The round's latest attempts failed StorageUnreachable: the run's object storage is out (StorageUnavailable=True). */
    StorageUnavailable(Type.Warning),
    /** An attempt got past storage again after an outage (StorageUnavailable=False). */
    StorageAvailable(Type.Normal),
    InvalidSpec(Type.Warning),
    ImmutableFieldChanged(Type.Warning),
    /** The run's storage endpoint has no signer configured in the operator (Ready=False, SignerMissing). */
    SignerMissing(Type.Warning),
    /** A reconcile threw; recorded once per distinct message, not on every retry. */
    ReconcileError(Type.Warning);

    public enum Type {
        Normal,
        Warning
    }

    private final Type type;

    EventReason(Type type) {
        this.type = type;
    }

    public Type type() {
        return type;
    }
}
