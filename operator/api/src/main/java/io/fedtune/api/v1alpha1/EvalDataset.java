package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** A named held-out set the global adapter is evaluated on, e.g. in-domain or out-of-domain. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EvalDataset extends DatasetRef {

    @Required
    @Pattern(Patterns.DNS_LABEL)
    @JsonPropertyDescription("Name of the set in status and metrics (DNS label, e.g. in-domain).")
    public String name;
}
