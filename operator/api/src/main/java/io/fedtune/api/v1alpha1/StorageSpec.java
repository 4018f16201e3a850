package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The run's object storage (MinIO or any S3). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.credentialsSecret) != has(self.webIdentity)",
        message = "spec.storage needs exactly one of credentialsSecret (static keys in a Secret) and webIdentity (a projected "
                + "ServiceAccount token and a role to assume)")
public class StorageSpec {

    @Required
    @Pattern(Patterns.ENDPOINT)
    @JsonPropertyDescription("S3 endpoint URL as pods reach it: scheme, host and port only, e.g. http://minio.storage:9000 or "
            + "https://s3.eu-west-1.amazonaws.com. No path: put a key prefix in spec.storage.prefix instead.")
    public String endpoint;

    @Default("us-east-1")
    @Pattern("^[a-z0-9-]+$")
    @JsonPropertyDescription("S3 region. Default us-east-1.")
    public String region = "us-east-1";

    @Required
    @Pattern(Patterns.BUCKET)
    @JsonPropertyDescription("Bucket for the run's adapters, manifests and optimizer state.")
    public String bucket;

    @Default("fedtune")
    @Pattern("^[A-Za-z0-9._/-]*$")
    @JsonPropertyDescription("Key prefix; objects go to <prefix>/<namespace>/<run>/round-NNNN/... Default fedtune.")
    public String prefix = "fedtune";

    @JsonPropertyDescription("Secret with the run's S3 credentials; mounted into trainer and aggregation pods, never read by the "
            + "operator. Required unless webIdentity is set.")
    public SecretKeys credentialsSecret;

    @JsonPropertyDescription("Workload identity instead of credentialsSecret: the pods assume this role with a projected "
            + "ServiceAccount token (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE).")
    public WebIdentity webIdentity;

    @JsonPropertyDescription("ConfigMap key holding the PEM CA bundle that signs the endpoint's certificate (an internal MinIO "
            + "with a private CA); mounted read-only into the pods, its path in FEDTUNE_STORAGE_CA_FILE. Absent: the "
            + "image's trust store.")
    public ConfigMapKey caBundle;
}
