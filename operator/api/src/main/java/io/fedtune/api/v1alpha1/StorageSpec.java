package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The run's object storage (MinIO or any S3). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StorageSpec {

    @Required
    @Pattern(Patterns.ENDPOINT)
    @JsonPropertyDescription("S3 endpoint URL as pods reach it, e.g. http://minio.storage:9000 or https://s3.eu-west-1.amazonaws.com.")
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

    @Required
    @JsonPropertyDescription("Secret with the run's S3 credentials; mounted into trainer and aggregation pods, never read by the operator.")
    public SecretKeys credentialsSecret;
}
