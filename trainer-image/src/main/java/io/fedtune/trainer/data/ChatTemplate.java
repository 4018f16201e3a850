package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.fedtune.trainer.storage.SmallFile;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checkpoint's {@code chat_template} (tokenizer_config.json), rendered with Jinjava as Hugging Face renders it with
 * jinja2: trim_blocks and lstrip_blocks, {@code bos_token}/{@code eos_token}, {@code add_generation_prompt} (false for
 * training, true for a prompt to generate from), {@code raise_exception}, Python string methods, {@code [::-1]}.
 *
 * <p>Assistant spans: each assistant message is rendered once more with its content replaced by a sentinel
 * character (and any reasoning_content dropped). The loss covers the full rendering from the first character where
 * the two renderings differ to the last, which is that message's content as the template wrote it (after its trim or
 * strip), and the special token that closes the turn ({@code <|eot_id|>}, {@code <|im_end|>}). What the template
 * writes whatever the content (headers, Qwen3's {@code <think>\n} opener of the last turn) carries none. A template
 * that rewrites the content shows in the span: Qwen3 splits a content at {@code </think>} and writes the reasoning in
 * a {@code <think>} block only for turns after the last user message, so such a turn's loss covers its reasoning,
 * {@code </think>}, its answer and {@code <|im_end|>}, and an earlier turn's only its answer (its reasoning is not in
 * the rendering at all).
 */
public final class ChatTemplate {
    public static final String FILE = "tokenizer_config.json";
    public static final String FIELD = "chat_template";
    /** A private-use character that no template strips, splits on or escapes. */
    static final String SENTINEL = "\uE000";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final List<String> specialTokens;
    private final Jinjava jinjava;

    ChatTemplate(String template, String bosToken, String eosToken, List<String> specialTokens) {
        this.template = jinjavaSyntax(template);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.specialTokens = specialTokens.stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withElResolver(resolver).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
    }

    /**
     * Three jinja2 forms that Jinjava handles otherwise: {@code {{-} and {@code -}}} (whitespace control, applied
     * here as transformers.js does, with the block forms), a list reversed by the slice {@code [::-1]}, and a
     * {@code namespace(name=expression)} argument, whose expression Jinjava ends at its first filter.
     */
    static String jinjavaSyntax(String template) {
        String t = template.replaceAll("-%}\\s*", "%}").replaceAll("\\s*\\{%-", "{%")
                .replaceAll("-}}\\s*", "}}").replaceAll("\\s*\\{\\{-", "{{")
                .replace("[::-1]", "|reverse|list");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("namespace\\(([^()]*)\\)").matcher(t);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            StringBuilder args = new StringBuilder();
            for (String arg : m.group(1).split(",")) {
                int eq = arg.indexOf('=');
                args.append(args.isEmpty() ? "" : ",").append(eq < 0 ? arg
                        : arg.substring(0, eq + 1) + "(" + arg.substring(eq + 1).strip() + ")");
            }
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement("namespace(" + args + ")"));
        }
        return m.appendTail(out).toString();
    }

    /**
     * The template of the checkpoint in dir, or empty when it has no tokenizer_config.json or the file has no
     * chat_template.
     */
    public static Optional<ChatTemplate> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonNode config = JSON.readTree(SmallFile.readString(file, 16 * SmallFile.MiB));
        String template = template(config.path(FIELD));
        if (template == null) {
            return Optional.empty();
        }
        List<String> special = new ArrayList<>();
        for (Iterator<JsonNode> it = config.path("added_tokens_decoder").elements(); it.hasNext(); ) {
            JsonNode t = it.next();
            if (t.path("special").asBoolean(false) && t.path("content").isTextual()) {
                special.add(t.get("content").asText());
            }
        }
        return Optional.of(new ChatTemplate(template, token(config.path("bos_token")), token(config.path("eos_token")), special));
    }

    /** A string, or the "default" of a list of named templates. */
    private static String template(JsonNode field) {
        if (field.isTextual() && !field.asText().isBlank()) {
            return field.asText();
        }
        for (JsonNode named : field) {
            if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                return named.get("template").asText();
            }
        }
        return null;
    }

    private static String token(JsonNode t) {
        if (t.isTextual()) {
            return t.asText();
        }
        return t.path("content").isTextual() ? t.get("content").asText() : "";
    }

    /** Called by templates as raise_exception(message): the record cannot be rendered. */
    public static String raiseException(String message) {
        RAISED.set(message);
        throw new TemplateRaised(message);
    }

    /** Jinjava reports only that the function failed; the template's own message is kept here. */
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    /** The conversation as the template writes it for training (no generation prompt). */
    public String render(List<Map<String, Object>> messages) throws RenderFailed {
        return render(messages, false);
    }

    /** A single user turn with the template's generation prompt after it (the assistant header), to generate from. */
    public String generationPrompt(String userContent) throws RenderFailed {
        return render(List.of(Map.of("role", "user", "content", userContent)), true);
    }

    /**
     * The special token the template closes an assistant turn with ({@code <|eot_id|>}, {@code <|im_end|>}), found
     * right after an assistant message's content; empty when the template writes none there.
     */
    public Optional<String> endOfTurn() throws RenderFailed {
        String s = render(List.of(Map.of("role", "user", "content", "hi"), Map.of("role", "assistant", "content", SENTINEL)));
        int k = s.indexOf(SENTINEL);
        if (k < 0) {
            throw new RenderFailed("cannot find the assistant message in the rendered conversation");
        }
        String closing = closing(s, k + 1);
        return closing.isEmpty() ? Optional.empty() : Optional.of(closing);
    }

    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) throws RenderFailed {
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result;
        RAISED.remove();
        try {
            result = jinjava.renderForResult(template, context);
        } catch (TemplateRaised e) {
            throw new RenderFailed("the chat template raised: " + e.getMessage());
        }
        if (RAISED.get() != null) {
            String message = RAISED.get();
            RAISED.remove();
            throw new RenderFailed("the chat template raised: " + message);
        }
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new RenderFailed("the chat template failed: " + e.getMessage());
            }
        }
        return result.getOutput();
    }

    /**
     * The rendered conversation as segments: each assistant message's content and the special token closing its
     * turn carry the loss, everything else (system, user, headers, BOS) does not.
     */
    public List<Segment> segments(JsonNode messages) throws RenderFailed {
        List<Map<String, Object>> list = new ArrayList<>();
        for (JsonNode m : messages) {
            @SuppressWarnings("unchecked")
            Map<String, Object> map = JSON.convertValue(m, LinkedHashMap.class);
            list.add(map);
        }
        String full = render(list);
        List<Segment> out = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < list.size(); i++) {
            if (!"assistant".equals(list.get(i).get("role"))) {
                continue;
            }
            List<Map<String, Object>> marked = new ArrayList<>(list);
            Map<String, Object> m = new LinkedHashMap<>(list.get(i));
            m.put("content", SENTINEL);
            m.remove("reasoning_content");
            marked.set(i, m);
            String s = render(marked);
            int k = s.indexOf(SENTINEL);
            if (k < 0 || s.indexOf(SENTINEL, k + 1) >= 0) {
                throw new RenderFailed("cannot find assistant message " + i + " in the rendered conversation");
            }
            int start = 0;
            while (start < k && start < full.length() && full.charAt(start) == s.charAt(start)) {
                start++;
            }
            int tail = 0;
            int after = s.length() - k - 1;
            while (tail < after && tail < full.length() - start
                    && full.charAt(full.length() - 1 - tail) == s.charAt(s.length() - 1 - tail)) {
                tail++;
            }
            int end = full.length() - tail;
            if (start < at || tail < after) {
                throw new RenderFailed("cannot find assistant message " + i + " in the rendered conversation");
            }
            end += closing(full, end).length();
            if (start > at) {
                out.add(new Segment(full.substring(at, start), false, true));
            }
            out.add(new Segment(full.substring(start, end), true, true));
            at = end;
        }
        if (at < full.length()) {
            out.add(new Segment(full.substring(at), false, true));
        }
        return out;
    }

    private String closing(String text, int from) {
        for (String t : specialTokens) {
            if (text.startsWith(t, from)) {
                return t;
            }
        }
        return "";
    }

    /** A record the template cannot render, or whose assistant turns cannot be found in the rendering. */
    public static final class RenderFailed extends Exception {
        RenderFailed(String message) {
            super(message);
        }
    }

    private static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message);
        }
    }

    /** Python's str methods that HF templates call (startswith, split, strip, ...), with Python's semantics. */
    static final class PythonStringMethods extends ELResolver {
        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
            if (!(base instanceof String s) || method == null) {
                return null;
            }
            Object[] p = params == null ? new Object[0] : params;
            Object result = switch (method.toString()) {
                case "startswith" -> p.length == 1 ? s.startsWith(String.valueOf(p[0])) : null;
                case "endswith" -> p.length == 1 ? s.endsWith(String.valueOf(p[0])) : null;
                case "split" -> p.length == 1 && p[0] != null ? split(s, p[0].toString()) : null;
                case "strip" -> rstrip(lstrip(s, chars(p)), chars(p));
                case "lstrip" -> lstrip(s, chars(p));
                case "rstrip" -> rstrip(s, chars(p));
                case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
                case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
                case "replace" -> p.length == 2 ? s.replace(String.valueOf(p[0]), String.valueOf(p[1])) : null;
                default -> null;
            };
            if (result != null) {
                context.setPropertyResolved(true);
            }
            return result;
        }

        private static String chars(Object[] p) {
            return p.length == 0 || p[0] == null ? null : p[0].toString();
        }

        static List<String> split(String s, String sep) {
            List<String> out = new ArrayList<>();
            int i = 0;
            for (int k; !sep.isEmpty() && (k = s.indexOf(sep, i)) >= 0; i = k + sep.length()) {
                out.add(s.substring(i, k));
            }
            out.add(s.substring(i));
            return out;
        }

        static String lstrip(String s, String chars) {
            int i = 0;
            while (i < s.length() && (chars == null ? Character.isWhitespace(s.charAt(i)) : chars.indexOf(s.charAt(i)) >= 0)) {
                i++;
            }
            return s.substring(i);
        }

        static String rstrip(String s, String chars) {
            int i = s.length();
            while (i > 0 && (chars == null ? Character.isWhitespace(s.charAt(i - 1)) : chars.indexOf(s.charAt(i - 1)) >= 0)) {
                i--;
            }
            return s.substring(0, i);
        }

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {
        }

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return true;
        }

        @Override
        public java.util.Iterator<java.beans.FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return String.class;
        }
    }
}
