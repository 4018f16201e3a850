package io.fedtune.local;

import io.fedtune.operator.validation.Violation;
import java.util.List;

/** Apply refused the manifests, as an API server would, before anything started. */
public final class InvalidManifests extends Exception {
    private final List<String> problems;

    public InvalidManifests(List<String> problems) {
        super("refused by validation:\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    static String describe(io.fabric8.kubernetes.api.model.HasMetadata r, Violation v) {
        return r.getKind() + "/" + r.getMetadata().getName() + ": " + v.message();
    }

    public List<String> problems() {
        return problems;
    }
}
