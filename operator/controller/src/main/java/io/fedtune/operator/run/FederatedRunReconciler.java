package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.pods.PodLabels;
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

/**
 * Reconciles a FederatedRun into rounds of trainer pods and an aggregation pod. It only orchestrates: the steps of the
 * round state machine act, the status aggregator derives phase and conditions, and status is patched (and cached for
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

    private final RoundActions actions;
    private final Clock clock;
    private final List<RoundStep> steps;
    private final WrittenStatus written = new WrittenStatus();

    @Inject
    public FederatedRunReconciler(RoundActions actions) {
        this(actions, Clock.systemUTC());
    }

    public FederatedRunReconciler(RoundActions actions, Clock clock) {
        this.actions = actions;
        this.clock = clock;
        RoundEnding ending = new RoundEnding(actions);
        this.steps = List.of(new CheckSpec(actions), new StartRound(actions), new TrainShards(actions, ending),
                new AggregateRound(actions, ending));
    }

    @Override
    public UpdateControl<FederatedRun> reconcile(FederatedRun received, Context<FederatedRun> context) {
        FederatedRun run = written.latest(received);
        FederatedRunStatus before = WrittenStatus.statusOf(run);
        FederatedRunStatus status = ContractJson.mapper().convertValue(before, FederatedRunStatus.class);
        List<Pod> pods = pods(run, context);
        RunSnapshot snapshot = new RunSnapshot(run, status, pods, shards(run, context), clock.instant());
        for (RoundStep step : steps) {
            if (step.apply(snapshot) == RoundStep.Next.STOP) {
                break;
            }
        }
        RunStatusAggregator.apply(run, status, snapshot.situation, snapshot.now);
        actions.metrics().runState(run.getMetadata().getNamespace(), run.getMetadata().getName(),
                status.phase == Phase.Running, status.currentRound == null ? 0 : status.currentRound);

        if (!Objects.equals(ContractJson.mapper().valueToTree(before), ContractJson.mapper().valueToTree(status))) {
            String patchedFrom = run.getMetadata().getResourceVersion();
            run.setStatus(status);
            // A write of the status subresource alone, guarded by resourceVersion: a conflict (a spec edit meanwhile, or a
            // stale view) fails and JOSDK reconciles again from the latest version. Not a merge patch: merge patches
            // replace lists, and the in-process API server of tests and local mode gets that wrong.
            FederatedRun result = context.getClient().resource(run).updateStatus();
            written.remember(patchedFrom, result);
        }
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

    @Override
    public ErrorStatusUpdateControl<FederatedRun> updateErrorStatus(FederatedRun run, Context<FederatedRun> context, Exception e) {
        actions.metrics().reconcileError(NAME);
        return ErrorStatusUpdateControl.defaultErrorProcessing();
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
