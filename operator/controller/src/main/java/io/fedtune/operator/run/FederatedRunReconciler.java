package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.status.ReconcileError;
import io.fedtune.operator.status.RunStatusAggregator;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Reconciles a FederatedRun into rounds of trainer pods and an aggregation pod. It only orchestrates: the step of the
 * run's round state acts, the status aggregator derives phase and conditions, and status is patched (and cached for
 * the next reconcile) only when it changed.
 * Woken by the run, its pods and the namespace's ClientShards; timers only for backoff and the round timeout.
 */
@ControllerConfiguration(name = FederatedRunReconciler.NAME)
public class FederatedRunReconciler implements Reconciler<FederatedRun>, Cleaner<FederatedRun> {
    public static final String NAME = "federatedrun";
    static final String SHARDS = "clientshards";
    static final String PODS = "pods";
    private static final String RUN_KIND = io.fabric8.kubernetes.api.model.HasMetadata.getKind(FederatedRun.class);
    private static final String RUN_API_VERSION = io.fabric8.kubernetes.api.model.HasMetadata.getApiVersion(FederatedRun.class);

    private static final Logger LOG = Logger.getLogger(FederatedRunReconciler.class);

    private final RoundActions actions;
    private final Clock clock;
    private final RoundSteps steps;
    private final WrittenStatus written = new WrittenStatus();

    @Inject
    public FederatedRunReconciler(RoundActions actions) {
        this(actions, Clock.systemUTC());
    }

    public FederatedRunReconciler(RoundActions actions, Clock clock) {
        this.actions = actions;
        this.clock = clock;
        this.steps = new RoundSteps(actions);
    }

    @Override
    public UpdateControl<FederatedRun> reconcile(FederatedRun received, Context<FederatedRun> context) {
        FederatedRun run = written.latest(received);
        FederatedRunStatus before = WrittenStatus.statusOf(run);
        FederatedRunStatus status = copy(before);
        RunSnapshot snapshot = new RunSnapshot(run, status, pods(run, context), shards(run, context), clock.instant());
        steps.reconcile(snapshot);
        actions.metrics().runState(run.getMetadata().getNamespace(), run.getMetadata().getName(),
                status.phase == Phase.Running, status.currentRound == null ? 0 : status.currentRound);
        RoundHistory.latestEvaluated(status).ifPresent(r -> actions.metrics().runEvaluation(run.getMetadata().getNamespace(),
                run.getMetadata().getName(), r.evalMetric, r.globalEvalScore, r.evalScores));
        write(run, before, status, context);
        UpdateControl<FederatedRun> control = UpdateControl.noUpdate();
        snapshot.requeue().ifPresent(control::rescheduleAfter);
        return control;
    }

    @Override
    public DeleteControl cleanup(FederatedRun run, Context<FederatedRun> context) {
        actions.pods().deleteAllOf(run.getMetadata().getNamespace(), run.getMetadata().getName());
        written.forget(run);
        actions.metrics().runDeleted(run.getMetadata().getNamespace(), run.getMetadata().getName());
        return DeleteControl.defaultDelete();
    }

    /**
     * A reconcile that threw (a 403, a quota or admission refusal, an internal error) is written into the run's Ready
     * condition through the status aggregator, with the same guarded status PUT as every other status write, so
     * kubectl shows it instead of a frozen stage. JOSDK then retries with backoff as usual; a conflict is only a stale
     * view, which the retry reads past, so it is not shown.
     */
    @Override
    public ErrorStatusUpdateControl<FederatedRun> updateErrorStatus(FederatedRun received, Context<FederatedRun> context, Exception e) {
        actions.metrics().reconcileError(NAME);
        if (ReconcileError.isConflict(e)) {
            return ErrorStatusUpdateControl.defaultErrorProcessing();
        }
        FederatedRun run = written.latest(received);
        FederatedRunStatus before = WrittenStatus.statusOf(run);
        FederatedRunStatus status = copy(before);
        String message = ReconcileError.message(e);
        RunStatusAggregator.reconcileError(run, status, message, clock.instant());
        if (!Conditions.says(before.conditions, ConditionType.READY, ConditionReason.ReconcileError, message)) {
            actions.events().record(run, EventReason.ReconcileError, message);
        }
        try {
            write(run, before, status, context);
        } catch (KubernetesClientException writeError) {
            LOG.warnf("could not write the reconcile error of FederatedRun %s/%s to its status: %s",
                    run.getMetadata().getNamespace(), run.getMetadata().getName(), writeError.getMessage());
        }
        return ErrorStatusUpdateControl.noStatusUpdate();
    }

    /**
     * Writes the status subresource alone when it changed, guarded by resourceVersion: a conflict (a spec edit
     * meanwhile, or a stale view) fails and JOSDK reconciles again from the latest version. Not a merge patch: merge
     * patches replace lists, and the in-process API server of tests and local mode gets that wrong. The object sent is
     * a new one, so neither the informer's copy nor the remembered last write is edited.
     */
    private void write(FederatedRun run, FederatedRunStatus before, FederatedRunStatus status, Context<FederatedRun> context) {
        if (Objects.equals(ContractJson.mapper().valueToTree(before), ContractJson.mapper().valueToTree(status))) {
            return;
        }
        String writtenFrom = run.getMetadata().getResourceVersion();
        FederatedRun next = new FederatedRun();
        next.setMetadata(run.getMetadata());
        next.setSpec(run.getSpec());
        next.setStatus(status);
        FederatedRun result = context.getClient().resource(next).updateStatus();
        written.remember(writtenFrom, result);
    }

    private static FederatedRunStatus copy(FederatedRunStatus status) {
        return ContractJson.mapper().convertValue(status, FederatedRunStatus.class);
    }

    @Override
    public List<EventSource<?, FederatedRun>> prepareEventSources(EventSourceContext<FederatedRun> context) {
        var pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, FederatedRun.class)
                .withName(PODS)
                .withLabelSelector(PodLabels.MANAGED_BY + "=" + PodLabels.OPERATOR)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(FederatedRun.class, false))
                .withNamespacesInheritedFromController()
                .build(), context);
        // Any shard change may change a run's eligible set, so a shard maps to every run of its namespace.
        var shards = new InformerEventSource<>(InformerEventSourceConfiguration.from(ClientShard.class, FederatedRun.class)
                .withName(SHARDS)
                .withSecondaryToPrimaryMapper(shard -> context.getPrimaryCache()
                        .list(shard.getMetadata().getNamespace())
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
                .withPrimaryToSecondaryMapper(run -> java.util.Set.of())
                .withNamespacesInheritedFromController()
                .build(), context);
        return List.of(pods, shards);
    }

    /**
     * The run's pods: those of its namespace in the pod informer's cache that it owns (what the owner-reference mapper
     * maps to it). Not context.getSecondaryResources: JOSDK collects those into a HashSet, and Pod.hashCode walks the
     * whole pod (spec, env, status), so every reconcile hashed every pod of the round; at 1,000 shards that was the
     * operator's largest cost (profiled, see README, Benchmark).
     */
    @SuppressWarnings("unchecked")
    private static List<Pod> pods(FederatedRun run, Context<FederatedRun> context) {
        var source = (InformerEventSource<Pod, FederatedRun>) context.eventSourceRetriever().getEventSourceFor(Pod.class, PODS);
        String name = run.getMetadata().getName();
        return source.list(run.getMetadata().getNamespace(), pod -> ownedBy(pod, name)).collect(Collectors.toCollection(ArrayList::new));
    }

    /** As Mappers.fromOwnerReferences(FederatedRun.class, false) maps a pod to its run: by owner kind, apiVersion and name. */
    private static boolean ownedBy(Pod pod, String name) {
        var owners = pod.getMetadata().getOwnerReferences();
        if (owners == null) {
            return false;
        }
        for (var owner : owners) {
            if (RUN_KIND.equals(owner.getKind()) && RUN_API_VERSION.equals(owner.getApiVersion()) && name.equals(owner.getName())) {
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static List<ClientShard> shards(FederatedRun run, Context<FederatedRun> context) {
        var source = (InformerEventSource<ClientShard, FederatedRun>) context.eventSourceRetriever()
                .getEventSourceFor(ClientShard.class, SHARDS);
        return source.list(run.getMetadata().getNamespace()).toList();
    }
}
