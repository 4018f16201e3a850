package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.ServerAttempts;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The steps of the server's two small task pods, the run's preparation and its publishing: one pod at a time, retried
 * by the aggregation's rules ({@link ServerAttempts}: backoff up to maxRetries, StorageUnreachable uncharged until the
 * round timeout, a pod that never starts cut); a permanent failure, or the last retry's, fails the run.
 */
abstract sealed class ServerTaskStep<S extends RoundState> extends RoundStep<S> permits PrepareBaseModel, PublishAdapter {

    /** The reasons a task's conditions and Events give. */
    record Reasons(ConditionReason running, ConditionReason backoff, ConditionReason failed, EventReason retried) {
    }

    private final Reasons reasons;

    ServerTaskStep(Class<S> handles, RoundActions actions, Reasons reasons) {
        super(handles, actions);
        this.reasons = reasons;
    }

    /** What the pod does, for messages: "preparing the base model s3://...". */
    abstract String what(RunSnapshot s, S state);

    abstract List<Pod> attempts(S state);

    /** The pod of an attempt, to create. */
    abstract Pod pod(RunSnapshot s, S state, int attempt);

    /** Records what a succeeded attempt reported and moves the run on; or says why its result cannot be used. */
    abstract Optional<String> succeeded(RunSnapshot s, S state, PodOutcome outcome);

    @Override
    final void apply(RunSnapshot s, S state) {
        List<Pod> attempts = attempts(state);
        ServerAttempts server = ServerAttempts.of(attempts, s.run.getSpec().participation, s.now);
        Attempts a = server.attempts();
        String what = what(s, state);
        switch (a.kind()) {
            case RUNNING -> {
                s.situation = Situation.running(reasons.running(), what + ": attempt " + a.attempt() + " running");
                server.recheckAt(attempts.get(attempts.size() - 1)).ifPresent(at -> s.requeueAfter(Duration.between(s.now, at)));
            }
            case BACKOFF -> {
                s.situation = Situation.running(reasons.backoff(), what + ": attempt " + a.attempt() + " failed ("
                        + a.last().reason() + "): " + a.last().message() + "; retrying at " + a.retryAt());
                s.requeueAfter(Duration.between(s.now, server.wakeAt()));
            }
            case CREATE -> {
                if (a.last() != null) {
                    actions.events().record(s.run, reasons.retried(), what + ": attempt " + (a.attempt() - 1) + " failed ("
                            + a.last().reason() + "): " + a.last().message() + "; starting attempt " + a.attempt());
                }
                actions.pods().create(pod(s, state, a.attempt()));
                TrainShards.cutSuperseded(actions, attempts);
                s.situation = Situation.running(reasons.running(), what + ": attempt " + a.attempt() + " started");
            }
            case FAILED -> fail(s, what + " failed after " + a.attempt() + " attempt(s) (" + a.last().reason() + "): "
                    + a.last().message());
            case SUCCEEDED -> succeeded(s, state, a.last()).ifPresent(why -> fail(s, what + ": " + why));
        }
    }

    private void fail(RunSnapshot s, String message) {
        actions.events().record(s.run, EventReason.RunFailed, message);
        s.movedTo(RoundState.Kind.Failed);
        s.situation = Situation.of(Phase.Failed, reasons.failed(), message);
    }
}
