package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** A JSONL dataset in object storage. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DatasetRef {

    @Required
    @Pattern(Patterns.S3_URI)
    @JsonPropertyDescription("s3://bucket/key of a JSONL file (one record per line).")
    public String uri;

    @Default("Text")
    @JsonPropertyDescription("Record shape: Text ({\"text\"}), PromptCompletion ({\"prompt\",\"completion\"}), Chat ({\"messages\"}, rendered with the base model's chat_template) or PromptCompletionChat (prompt and completion records rendered with that template as a user and an assistant turn). Default Text.")
    public DataFormat format = DataFormat.Text;

    public DatasetRef() {
    }

    public DatasetRef(String uri, DataFormat format) {
        this.uri = uri;
        this.format = format;
    }
}
