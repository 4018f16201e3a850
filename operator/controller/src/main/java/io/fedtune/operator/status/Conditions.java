package io.fedtune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fedtune.api.v1alpha1.ConditionReason;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** A list of Kubernetes conditions, kept per API conventions: lastTransitionTime moves only when status flips. */
public final class Conditions {
    private final List<Condition> list;
    private final Long generation;
    private final String now;

    public Conditions(List<Condition> list, Long generation, Instant now) {
        this.list = list;
        this.generation = generation;
        this.now = now.toString();
    }

    public void set(String type, boolean status, ConditionReason reason, String message) {
        String value = status ? "True" : "False";
        Optional<Condition> existing = find(list, type);
        String transition = existing.filter(c -> value.equals(c.getStatus())).map(Condition::getLastTransitionTime).orElse(now);
        Condition next = new ConditionBuilder().withType(type).withStatus(value).withReason(reason.name())
                .withMessage(message == null ? "" : message).withObservedGeneration(generation)
                .withLastTransitionTime(transition).build();
        if (existing.isPresent()) {
            list.set(list.indexOf(existing.get()), next);
        } else {
            list.add(next);
        }
    }

    public static Optional<Condition> find(List<Condition> list, String type) {
        return list == null ? Optional.empty() : list.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
    }

    /** Whether the condition says this reason and message already (an Event for it was recorded then). */
    public static boolean says(List<Condition> list, String type, ConditionReason reason, String message) {
        return find(list, type).map(c -> reason.name().equals(c.getReason()) && Objects.equals(message, c.getMessage())).orElse(false);
    }

    public static boolean isTrue(List<Condition> list, String type) {
        return find(list, type).map(c -> "True".equals(c.getStatus())).orElse(false);
    }
}
