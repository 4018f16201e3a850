package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** A key of a ConfigMap in the resource's namespace, mounted read-only into the pods. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ConfigMapKey {

    @Required
    @Pattern(Patterns.DNS_SUBDOMAIN)
    @JsonPropertyDescription("Name of the ConfigMap in the same namespace.")
    public String name;

    @Default("ca.crt")
    @Pattern(Patterns.SECRET_KEY)
    @JsonPropertyDescription("Key in the ConfigMap. Default ca.crt.")
    public String key = "ca.crt";

    public ConfigMapKey() {
    }

    public ConfigMapKey(String name, String key) {
        this.name = name;
        this.key = key;
    }
}
