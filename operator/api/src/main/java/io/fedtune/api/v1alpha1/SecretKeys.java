package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/**
 * S3 credentials in a Secret of the resource's namespace. The operator never reads it: pods reference it by name.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretKeys {

    @Required
    @Pattern(Patterns.DNS_SUBDOMAIN)
    @JsonPropertyDescription("Name of the Secret (DNS subdomain) in the same namespace.")
    public String name;

    @Default("accessKeyId")
    @Pattern(Patterns.SECRET_KEY)
    @JsonPropertyDescription("Key in the Secret holding the S3 access key id. Default accessKeyId.")
    public String accessKeyIdKey = "accessKeyId";

    @Default("secretAccessKey")
    @Pattern(Patterns.SECRET_KEY)
    @JsonPropertyDescription("Key in the Secret holding the S3 secret access key. Default secretAccessKey.")
    public String secretAccessKeyKey = "secretAccessKey";

    @Pattern(Patterns.SECRET_KEY)
    @JsonPropertyDescription("Key in the Secret holding an S3 session token, for temporary credentials (STS). Absent: none.")
    public String sessionTokenKey;

    public SecretKeys() {
    }

    public SecretKeys(String name) {
        this.name = name;
    }
}
