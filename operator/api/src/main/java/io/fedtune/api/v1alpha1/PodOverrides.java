package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Pod settings; where both a run and a shard set one, the shard's wins. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodOverrides {

    @Pattern("^[^\\s]+$")
    @JsonPropertyDescription("Container image that keeps the trainer contract. Absent: the operator's default trainer image.")
    public String image;

    @Pattern("^(Always|IfNotPresent|Never)$")
    @JsonPropertyDescription("Always, IfNotPresent or Never. Absent: Kubernetes' default for the image tag.")
    public String imagePullPolicy;

    @JsonPropertyDescription("Container resources, e.g. limits: {nvidia.com/gpu: 1, memory: 16Gi}.")
    public ResourceRequirements resources;

    @JsonPropertyDescription("Node labels the pod must match, e.g. a GPU pool.")
    public Map<String, String> nodeSelector;

    @JsonPropertyDescription("Tolerations, e.g. for tainted GPU nodes.")
    public List<Toleration> tolerations;

    @JsonPropertyDescription("Node and pod affinity.")
    public Affinity affinity;

    @Pattern(Patterns.DNS_SUBDOMAIN)
    @JsonPropertyDescription("PriorityClass of the pods.")
    public String priorityClassName;

    @Pattern(Patterns.DNS_SUBDOMAIN)
    @JsonPropertyDescription("ServiceAccount of the pods (e.g. for cloud workload identity). Absent: default, with no token mounted.")
    public String serviceAccountName;
}
