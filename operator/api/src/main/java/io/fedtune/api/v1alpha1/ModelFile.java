package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One file of the base checkpoint, as the run's preparation found it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelFile {

    @JsonPropertyDescription("File name under spec.baseModel.uri, e.g. model.safetensors.")
    public String name;

    @JsonPropertyDescription("SHA-256 (hex) of the file; every pod that reads it checks it.")
    public String sha256;

    @JsonPropertyDescription("Size in bytes.")
    public Long size;

    public ModelFile() {
    }

    public ModelFile(String name, String sha256, Long size) {
        this.name = name;
        this.sha256 = sha256;
        this.size = size;
    }

    /** The files' SHA-256 by name, as tasks carry them; null for null (a run prepared by no operator version). */
    public static java.util.Map<String, String> sha256ByName(java.util.List<ModelFile> files) {
        if (files == null) {
            return null;
        }
        java.util.Map<String, String> byName = new java.util.LinkedHashMap<>();
        files.forEach(f -> byName.put(f.name, f.sha256));
        return byName;
    }
}
