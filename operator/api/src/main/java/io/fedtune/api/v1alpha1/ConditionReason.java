package io.fedtune.api.v1alpha1;

import java.util.Arrays;
import java.util.Optional;

/**
 * Every reason fedtune writes on a condition (CamelCase, machine-readable; operator/README.md lists which condition
 * uses which). One vocabulary for the operator, the Argo CD health scripts and tools that read status.
 */
public enum ConditionReason {
    // Ready=True on a run: its phase
    Pending,
    Running,
    Suspended,
    Succeeded,
    // Ready=False on a run
    InvalidSpec,
    ImmutableFieldChanged,
    TooFewShards,
    AggregationFailed,
    /** The run's storage endpoint has no signing credential mounted into the operator; the message names the setting. */
    SignerMissing,
    /** The base model could not be prepared (checked and recorded) before round 1. */
    PreparationFailed,
    /** The best adapter could not be published to final/. */
    PublishingFailed,
    /** A reconcile threw (a refused API request, an internal error); the message says what. */
    ReconcileError,
    // Progressing
    Preparing,
    PreparationRetryBackoff,
    RoundStarting,
    Training,
    Aggregating,
    AggregationRetryBackoff,
    RoundFinished,
    WaitingForShards,
    Publishing,
    PublishingRetryBackoff,
    // Succeeded
    RoundsCompleted,
    EarlyStopped,
    RoundsRemaining,
    RunFailed,
    // Failed=False
    NoFailure,
    // Degraded
    ShardsFailed,
    UpdatesRefused,
    RolledBack,
    RoundFailed,
    AllShardsHealthy,
    // StorageUnavailable
    Unreachable,
    Reachable,
    // Suspended
    SuspendRequested,
    RoundInProgress,
    NotSuspended,
    // ClientShard Ready and Degraded
    Valid,
    Paused,
    RepeatedFailures,
    Healthy;

    /** The reason a condition names; empty for one this version does not write. */
    public static Optional<ConditionReason> of(String name) {
        return Arrays.stream(values()).filter(r -> r.name().equals(name)).findFirst();
    }

    /** The Ready=True reason of a run in this phase. */
    public static ConditionReason ready(Phase phase) {
        return switch (phase) {
            case Pending -> Pending;
            case Running -> Running;
            case Suspended -> Suspended;
            case Succeeded -> Succeeded;
            case Failed -> RunFailed;
        };
    }
}
