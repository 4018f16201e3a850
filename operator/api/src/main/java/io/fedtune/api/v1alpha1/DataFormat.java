package io.fedtune.api.v1alpha1;

/** JSONL record shapes the trainer reads. */
public enum DataFormat {
    /** {"text": ...}: loss on every token. */
    Text,
    /** {"prompt": ..., "completion": ...}: loss on the completion only. */
    PromptCompletion,
    /** {"messages": [{"role", "content"}...]}: loss on assistant turns only. */
    Chat,
    /**
     * PromptCompletion's records rendered through the base model's chat template as one user and one assistant turn:
     * loss on the completion as the template frames it.
     */
    PromptCompletionChat
}
