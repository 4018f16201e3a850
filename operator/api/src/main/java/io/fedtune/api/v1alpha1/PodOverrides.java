package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Pod settings; where both a run and a shard set one, the shard's wins. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodOverrides {
    /** The GPU resource the one-device rule checks. */
    public static final String GPU = "nvidia.com/gpu";

    @Pattern("^[^\\s]+$")
    @JsonPropertyDescription("Container image that keeps the trainer contract. Absent: the operator's default trainer image.")
    public String image;

    @Pattern("^(Always|IfNotPresent|Never)$")
    @JsonPropertyDescription("Always, IfNotPresent or Never. Absent: Kubernetes' default for the image tag.")
    public String imagePullPolicy;

    @JsonPropertyDescription("Secrets (type kubernetes.io/dockerconfigjson) in the resource's namespace for pulling the image "
            + "from a private registry. Absent: none (the ServiceAccount's own still apply).")
    public List<LocalObjectReference> imagePullSecrets;

    @ValidationRule(value = "(!has(self.limits) || !('nvidia.com/gpu' in self.limits) || self.limits['nvidia.com/gpu'] == 0 "
            + "|| self.limits['nvidia.com/gpu'] == 1 || self.limits['nvidia.com/gpu'] == '0' || self.limits['nvidia.com/gpu'] == '1') "
            + "&& (!has(self.requests) || !('nvidia.com/gpu' in self.requests) || self.requests['nvidia.com/gpu'] == 0 "
            + "|| self.requests['nvidia.com/gpu'] == 1 || self.requests['nvidia.com/gpu'] == '0' || self.requests['nvidia.com/gpu'] == '1')",
            message = "resources nvidia.com/gpu must be 0 or 1: a trainer or aggregation pod computes on one device; "
                    + "to use more GPUs, give the data to more ClientShards")
    @JsonPropertyDescription("Container resources, e.g. limits: {nvidia.com/gpu: 1, memory: 16Gi} (at most one nvidia.com/gpu: one "
            + "device per pod). A resource without request or limit gets the operator's default request (fedtune.pods.* "
            + "properties: cpu, memory; ephemeral-storage defaults to scratchSize).")
    public ResourceRequirements resources;

    @Pattern(Patterns.QUANTITY)
    @JsonPropertyDescription("Size limit of the scratch emptyDir at /scratch (the base model unless cache is set, temporary files), e.g. 50Gi; also "
            + "the pod's ephemeral-storage request unless resources set one. Absent: the operator's fedtune.pods.scratch-size.")
    public String scratchSize;

    @JsonPropertyDescription("A PersistentVolumeClaim that outlives pods for the base model, mounted read-write at "
            + "/var/cache/fedtune and named by FEDTUNE_CACHE_DIR: pods sharing it download each checkpoint once. Absent: the "
            + "base model goes to scratch, downloaded by every pod.")
    public ModelCache cache;

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
    @JsonPropertyDescription("RuntimeClass of the pods (e.g. nvidia, or a sandboxed runtime such as gVisor or Kata). "
            + "Absent: the cluster's default runtime.")
    public String runtimeClassName;

    @Pattern(Patterns.DNS_SUBDOMAIN)
    @JsonPropertyDescription("ServiceAccount of the pods (e.g. for cloud workload identity). Absent: default, with no token mounted.")
    public String serviceAccountName;
}
