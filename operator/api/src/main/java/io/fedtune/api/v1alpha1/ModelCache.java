package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * A volume that outlives pods, for the base model: the pods mount it read-write and the trainer keeps each checkpoint there
 * once, verified on every use (FEDTUNE_CACHE_DIR, trainer-image/CONTRACT.md).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelCache {

    @Required
    @Pattern(Patterns.DNS_SUBDOMAIN)
    @Size(max = 253)
    @JsonPropertyDescription("Name of an existing PersistentVolumeClaim in the resource's namespace, e.g. one per GPU pool. "
            + "Its access mode must let every pod of the run that uses it mount it at once: ReadWriteMany, or ReadWriteOnce "
            + "when all of them run on one node; its filesystem needs atomic rename and POSIX locks (a local filesystem, "
            + "NFSv4). The pods get fsGroup 10001, so the trainer's user can write it.")
    public String persistentVolumeClaim;

    public ModelCache() {
    }

    public ModelCache(String persistentVolumeClaim) {
        this.persistentVolumeClaim = persistentVolumeClaim;
    }
}
