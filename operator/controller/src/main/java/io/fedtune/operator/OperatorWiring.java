package io.fedtune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.operator.events.KubernetesEvents;
import io.fedtune.operator.events.RunEvents;
import io.fedtune.operator.metrics.RunMetrics;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodDefaults;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.run.KubernetesRunPods;
import io.fedtune.operator.run.RoundActions;
import io.fedtune.operator.shard.ShardStatusWriter;
import io.fedtune.operator.signing.StorageSigners;
import io.fedtune.operator.validation.ResourceValidator;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.Optional;
import io.fedtune.operator.validation.CrdSchemaValidator;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** CDI wiring of the reconcilers' collaborators; the same objects can be built by hand outside Quarkus (local mode). */
@ApplicationScoped
public class OperatorWiring {

    @Produces
    @Singleton
    RunMetrics metrics(MeterRegistry registry) {
        return new RunMetrics(registry);
    }

    @Produces
    @Singleton
    RunEvents events(KubernetesClient client) {
        return new KubernetesEvents(client);
    }

    @Produces
    @Singleton
    RoundActions roundActions(KubernetesClient client, RunEvents events, RunMetrics metrics, Instance<ResourceValidator> validators,
            @ConfigProperty(name = "fedtune.trainer.image") String trainerImage,
            @ConfigProperty(name = "fedtune.pods.cpu-request", defaultValue = PodDefaults.CPU_REQUEST) String cpu,
            @ConfigProperty(name = "fedtune.pods.memory-request", defaultValue = PodDefaults.MEMORY_REQUEST) String memory,
            @ConfigProperty(name = "fedtune.pods.scratch-size", defaultValue = PodDefaults.SCRATCH_SIZE) String scratch,
            @ConfigProperty(name = "fedtune.signers") Optional<String> signers) {
        PodDefaults defaults = new PodDefaults(trainerImage, cpu, memory, scratch);
        return new RoundActions(new KubernetesRunPods(client), events, metrics,
                new TrainerPodBuilder(defaults, StorageSigners.parse(signers.orElse(""), Clock.systemUTC())),
                new AggregationPodBuilder(defaults), new ShardStatusWriter(client), validator(validators));
    }

    /** The CRD schema + CEL validator, unless the application provides another ResourceValidator bean. */
    public static ResourceValidator validator(Instance<ResourceValidator> validators) {
        return validators.isResolvable() ? validators.get() : new CrdSchemaValidator();
    }
}
