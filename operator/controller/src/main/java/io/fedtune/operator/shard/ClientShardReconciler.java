package io.fedtune.operator.shard;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ClientShardStatus;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.events.RunEvents;
import io.fedtune.operator.metrics.RunMetrics;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.validation.ResourceValidator;
import io.fedtune.operator.validation.Violation;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.fedtune.operator.OperatorWiring;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.net.HttpURLConnection;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Owns a ClientShard's observedGeneration and conditions (Ready: valid and usable; Degraded: failing rounds in a row).
 * The participation fields are written by the run reconciler; this one reconciles on every change (not only spec
 * changes) so Degraded follows consecutiveFailures, and patches only its own fields.
 */
@ControllerConfiguration(name = ClientShardReconciler.NAME, generationAwareEventProcessing = false)
public class ClientShardReconciler implements Reconciler<ClientShard> {
    public static final String NAME = "clientshard";

    private final ResourceValidator validator;
    private final RunEvents events;
    private final RunMetrics metrics;
    private final int degradedAfter;
    private final Clock clock;

    @Inject
    public ClientShardReconciler(Instance<ResourceValidator> validators, RunEvents events, RunMetrics metrics,
            @ConfigProperty(name = "fedtune.shard.degraded-after") int degradedAfter) {
        this(OperatorWiring.validator(validators), events, metrics, degradedAfter, Clock.systemUTC());
    }

    public ClientShardReconciler(ResourceValidator validator, RunEvents events, RunMetrics metrics, int degradedAfter, Clock clock) {
        this.validator = validator;
        this.events = events;
        this.metrics = metrics;
        this.degradedAfter = degradedAfter;
        this.clock = clock;
    }

    @Override
    public UpdateControl<ClientShard> reconcile(ClientShard shard, Context<ClientShard> context) {
        ClientShardStatus current = shard.getStatus() != null ? shard.getStatus() : new ClientShardStatus();
        List<Condition> conditions = ContractJson.mapper().convertValue(current.conditions,
                ContractJson.mapper().getTypeFactory().constructCollectionType(ArrayList.class, Condition.class));
        Conditions c = new Conditions(conditions, shard.getMetadata().getGeneration(), clock.instant());

        List<Violation> violations = validator.validate(shard, null);
        if (!violations.isEmpty()) {
            String message = String.join("; ", violations.stream().map(Violation::message).toList());
            if (!Conditions.says(conditions, ConditionType.READY, ConditionReason.InvalidSpec, message)) {
                events.record(shard, EventReason.InvalidSpec, message);
            }
            c.set(ConditionType.READY, false, ConditionReason.InvalidSpec, message);
        } else if (Boolean.TRUE.equals(shard.getSpec().paused)) {
            c.set(ConditionType.READY, true, ConditionReason.Paused, "spec.paused is true: left out of new rounds");
        } else {
            c.set(ConditionType.READY, true, ConditionReason.Valid, "takes part in the rounds of runs whose selector matches it");
        }
        int failures = current.consecutiveFailures == null ? 0 : current.consecutiveFailures;
        if (failures >= degradedAfter) {
            c.set(ConditionType.DEGRADED, true, ConditionReason.RepeatedFailures, "its trainer failed or was cut in " + failures
                    + " rounds in a row (last: round " + current.lastSelectedRound + " of run " + current.lastRun + ")");
        } else {
            c.set(ConditionType.DEGRADED, false, ConditionReason.Healthy, failures == 0 ? "" : failures + " failed round(s) in a row");
        }

        Long generation = shard.getMetadata().getGeneration();
        boolean same = Objects.equals(generation, current.observedGeneration)
                && Objects.equals(ContractJson.mapper().valueToTree(conditions), ContractJson.mapper().valueToTree(current.conditions));
        if (!same) {
            patchOwnFields(shard, generation, conditions, context);
        }
        return UpdateControl.noUpdate();
    }

    /** editStatus diffs the fresh object against the edited one: only observedGeneration and conditions are sent. */
    private static void patchOwnFields(ClientShard shard, Long generation, List<Condition> conditions, Context<ClientShard> context) {
        try {
            context.getClient().resources(ClientShard.class).inNamespace(shard.getMetadata().getNamespace())
                    .withName(shard.getMetadata().getName()).editStatus(fresh -> {
                        ClientShardStatus s = fresh.getStatus() != null ? fresh.getStatus() : new ClientShardStatus();
                        s.observedGeneration = generation;
                        s.conditions = conditions;
                        fresh.setStatus(s);
                        return fresh;
                    });
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
                throw e;
            }
        }
    }

    @Override
    public ErrorStatusUpdateControl<ClientShard> updateErrorStatus(ClientShard shard, Context<ClientShard> context, Exception e) {
        metrics.reconcileError(NAME);
        return ErrorStatusUpdateControl.defaultErrorProcessing();
    }
}
