package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/**
 * Workload identity for the run's storage: the pods get a projected ServiceAccount token and the role to assume with it
 * (STS AssumeRoleWithWebIdentity, as on EKS with IRSA or MinIO with an OpenID provider) instead of static keys.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class WebIdentity {

    @Required
    @Pattern("^[^\\s]+$")
    @JsonPropertyDescription("Role to assume, e.g. arn:aws:iam::123456789012:role/fedtune-run; set on the pods as AWS_ROLE_ARN. "
            + "Its trust policy names the pods' ServiceAccount (spec.trainer / spec.aggregator serviceAccountName).")
    public String roleArn;

    @Default("sts.amazonaws.com")
    @Pattern("^[^\\s]+$")
    @JsonPropertyDescription("Audience of the projected ServiceAccount token. Default sts.amazonaws.com.")
    public String audience = "sts.amazonaws.com";
}
