package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A named held-out set the global adapter is evaluated on, e.g. in-domain or out-of-domain. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EvalDataset extends TaskDataset {

    @Required
    @Pattern(Patterns.DNS_LABEL)
    // bounded so the API server's CEL cost estimate of the uniqueness rule on datasets stays within its limit
    @Size(max = 63)
    @JsonPropertyDescription("Name of the set in status and metrics (DNS label of at most 63 characters, e.g. in-domain).")
    public String name;
}
