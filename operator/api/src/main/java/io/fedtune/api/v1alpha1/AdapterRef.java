package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A global adapter in object storage. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AdapterRef {

    @JsonPropertyDescription("s3:// prefix holding adapter_config.json and adapter_model.safetensors.")
    public String uri;

    @JsonPropertyDescription("Round that produced it.")
    public Integer round;

    @JsonPropertyDescription("SHA-256 (hex) of adapter_model.safetensors.")
    public String sha256;

    @JsonPropertyDescription("SHA-256 (hex) of adapter_config.json.")
    public String configSha256;

    @JsonPropertyDescription("Primary global eval loss (mean per token of the primary set's gold answers).")
    public Double evalLoss;

    @JsonPropertyDescription("Name of the metric that ranks adapters: the primary eval set's (e.g. Loss, Accuracy, RougeL).")
    public String evalMetric;

    @JsonPropertyDescription("The primary eval set's value of evalMetric.")
    public Double evalScore;

    /** The SHA-256 recorded for each of its files, by name (those with one recorded). */
    public java.util.Map<String, String> recordedSha256() {
        java.util.Map<String, String> files = new java.util.LinkedHashMap<>();
        if (sha256 != null) {
            files.put(io.fedtune.api.contract.ObjectLayout.ADAPTER_WEIGHTS, sha256);
        }
        if (configSha256 != null) {
            files.put(io.fedtune.api.contract.ObjectLayout.ADAPTER_CONFIG, configSha256);
        }
        return files;
    }

    public AdapterRef() {
    }

    public AdapterRef(String uri, Integer round, String sha256, Double evalLoss) {
        this.uri = uri;
        this.round = round;
        this.sha256 = sha256;
        this.evalLoss = evalLoss;
    }
}
