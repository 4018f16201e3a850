package io.fedtune.operator.events;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/** Writes core/v1 Events; a failure to record one is logged and never fails a reconcile. */
public final class KubernetesEvents implements RunEvents {
    private static final Logger LOG = Logger.getLogger(KubernetesEvents.class);
    private static final int MESSAGE_LIMIT = 1024;
    private static final int NAME_LIMIT = 253;
    private final KubernetesClient client;
    private final AtomicLong sequence = new AtomicLong();

    public KubernetesEvents(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public void record(HasMetadata about, EventReason reason, String message) {
        String now = Instant.now().toString();
        String suffix = "." + Long.toHexString(System.nanoTime()) + Long.toHexString(sequence.incrementAndGet()).toLowerCase(Locale.ROOT);
        // an event's name is a DNS subdomain of at most 253 characters, and so is the name it starts with
        String head = about.getMetadata().getName();
        if (head.length() + suffix.length() > NAME_LIMIT) {
            head = head.substring(0, NAME_LIMIT - suffix.length()).replaceAll("[-.]+$", "");
        }
        String name = head + suffix;
        try {
            client.v1().events().inNamespace(about.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withName(name).withNamespace(about.getMetadata().getNamespace()).endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder()
                            .withApiVersion(about.getApiVersion()).withKind(about.getKind())
                            .withName(about.getMetadata().getName()).withNamespace(about.getMetadata().getNamespace())
                            .withUid(about.getMetadata().getUid()).build())
                    .withType(reason.type().name()).withReason(reason.name())
                    .withMessage(message.length() > MESSAGE_LIMIT ? message.substring(0, MESSAGE_LIMIT) : message)
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .withNewSource().withComponent("fedtune-operator").endSource()
                    .withReportingComponent("fedtune-operator")
                    .build()).create();
        } catch (KubernetesClientException e) {
            LOG.warnf("could not record event %s on %s/%s: %s", reason, about.getKind(), about.getMetadata().getName(), e.getMessage());
        }
    }
}
