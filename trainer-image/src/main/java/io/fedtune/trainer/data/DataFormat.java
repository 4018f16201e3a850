package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How one JSONL record becomes segments: {"text"}, {"prompt","completion"} or chat {"messages"}. PromptCompletionChat
 * takes PromptCompletion's records and renders each as one user turn (the prompt) and one assistant turn (the
 * completion) with the checkpoint's chat template, loss as Chat's.
 */
public enum DataFormat {
    TEXT,
    PROMPT_COMPLETION,
    CHAT,
    PROMPT_COMPLETION_CHAT;

    /** Whether records are rendered with the checkpoint's chat template. */
    public boolean needsTemplate() {
        return this == CHAT || this == PROMPT_COMPLETION_CHAT;
    }

    /** Whether records are {"prompt", "completion"}. */
    public boolean promptCompletion() {
        return this == PROMPT_COMPLETION || this == PROMPT_COMPLETION_CHAT;
    }

    public static DataFormat parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "")) {
            case "text" -> TEXT;
            case "promptcompletion" -> PROMPT_COMPLETION;
            case "chat" -> CHAT;
            case "promptcompletionchat" -> PROMPT_COMPLETION_CHAT;
            default -> throw new IllegalArgumentException("unknown data format " + name
                    + " (Text, PromptCompletion, Chat, PromptCompletionChat)");
        };
    }

    /**
     * The record's segments as the checkpoint's chat template renders a Chat record, or null when the record does
     * not have this format's shape or the template cannot render it.
     *
     * @param template required for {@link #CHAT}
     */
    List<Segment> segments(JsonNode record, ChatTemplate template) {
        if (!needsTemplate()) {
            return segments(record);
        }
        if (template == null) {
            throw new IllegalStateException(this + " records are rendered with the checkpoint's chat template; none was given");
        }
        if (segments(record) == null) {
            return null;
        }
        try {
            return template.segments(this == CHAT ? record.get("messages") : turns(record));
        } catch (ChatTemplate.RenderFailed e) {
            return null;
        }
    }

    /** A PromptCompletion record as a conversation: the prompt the user's turn, the completion the assistant's. */
    static JsonNode turns(JsonNode record) {
        var json = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        var messages = json.arrayNode();
        messages.addObject().put("role", "user").put("content", record.get("prompt").asText());
        messages.addObject().put("role", "assistant").put("content", record.get("completion").asText());
        return messages;
    }

    /** The record's segments, Chat turns as plain "role: content" lines (for shape and length checks), or null when the record does not have this format's shape. */
    List<Segment> segments(JsonNode record) {
        if (record == null || !record.isObject()) {
            return null;
        }
        return switch (this) {
            case TEXT -> record.path("text").isTextual() && !record.get("text").asText().isBlank()
                    ? List.of(new Segment(record.get("text").asText(), true)) : null;
            case PROMPT_COMPLETION, PROMPT_COMPLETION_CHAT -> record.path("prompt").isTextual() && record.path("completion").isTextual()
                    && !record.get("completion").asText().isEmpty()
                    ? List.of(new Segment(record.get("prompt").asText(), false),
                    new Segment(record.get("completion").asText(), true)) : null;
            case CHAT -> chat(record.path("messages"));
        };
    }

    private static List<Segment> chat(JsonNode messages) {
        if (!messages.isArray() || messages.isEmpty()) {
            return null;
        }
        List<Segment> out = new ArrayList<>();
        boolean anyAssistant = false;
        for (JsonNode m : messages) {
            String role = m.path("role").asText(null);
            if (role == null || !m.path("content").isTextual()) {
                return null;
            }
            boolean assistant = role.equals("assistant");
            anyAssistant |= assistant;
            out.add(new Segment(role + ": ", false));
            out.add(new Segment(m.get("content").asText() + "\n", assistant));
        }
        return anyAssistant ? out : null;
    }
}
