package io.fedtune.operator.validation;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;

/**
 * Checks a resource the way a Kubernetes API server checks it against the CRD: structural schema (types, required,
 * ranges, enums, patterns) after defaulting, then the CEL rules, including transition rules when an old object is given.
 */
public interface ResourceValidator {

    /**
     * @param resource the new object
     * @param old      the object it replaces, or null on create (transition rules are then skipped)
     * @return every violation; empty when valid
     */
    List<Violation> validate(HasMetadata resource, HasMetadata old);
}
