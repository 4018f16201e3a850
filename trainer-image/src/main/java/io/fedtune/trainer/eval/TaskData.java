package io.fedtune.trainer.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.trainer.data.DataException;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.Segment;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

/**
 * One eval set's records, read and checked for its task. LanguageModeling records are the set's DataFormat; the other
 * tasks have their own shapes ({@link #shape}). Malformed lines follow {@link Dataset}'s rule: up to
 * {@link Dataset#MAX_MALFORMED_FRACTION} of them are skipped, more fail the set naming the file, the first bad line, the
 * field and the expected shape.
 *
 * @param maxNewTokens Generation's token budget per answer
 */
public record TaskData(EvalTask task, List<List<Segment>> texts, List<ChoiceQuestion> questions,
                       List<GenerationPrompt> prompts, int maxNewTokens) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Held-out records of a training format, scored as LanguageModeling. */
    public static TaskData languageModeling(List<List<Segment>> records) {
        return new TaskData(EvalTask.LanguageModeling, List.copyOf(records), List.of(), List.of(), 0);
    }

    /**
     * @param format       LanguageModeling's record format (ignored by the other tasks)
     * @param maxNewTokens Generation only; null for {@link io.fedtune.api.v1alpha1.TaskDataset#DEFAULT_MAX_NEW_TOKENS}
     */
    public static TaskData read(Path file, EvalTask task, DataFormat format, Integer maxNewTokens) throws IOException {
        return read(file, task, format, maxNewTokens, null);
    }

    /** @param template the checkpoint's chat template; required when a LanguageModeling set's format is Chat */
    public static TaskData read(Path file, EvalTask task, DataFormat format, Integer maxNewTokens,
                                io.fedtune.trainer.data.ChatTemplate template) throws IOException {
        EvalTask t = task == null ? EvalTask.LanguageModeling : task;
        int budget = maxNewTokens == null ? io.fedtune.api.v1alpha1.TaskDataset.DEFAULT_MAX_NEW_TOKENS : maxNewTokens;
        return switch (t) {
            case LanguageModeling -> languageModeling(Dataset.read(file, format, template).records());
            case Classification -> classification(file);
            case MultipleChoice -> new TaskData(t, List.of(), lines(file, t, TaskData::multipleChoice), List.of(), 0);
            case Generation -> new TaskData(t, List.of(), List.of(), lines(file, t, TaskData::generation), budget);
        };
    }

    /** The record shape a task expects, as error messages and the docs give it. */
    public static String shape(EvalTask task) {
        return switch (task) {
            case LanguageModeling -> "a record of the set's format";
            case Classification -> "{\"prompt\": string, \"label\": string}";
            case MultipleChoice -> "{\"prompt\": string, \"choices\": [string, ...], \"answer\": index or choice}";
            case Generation -> "{\"prompt\": string, \"completion\": string} or {\"prompt\": string, \"references\": [string, ...]}";
        };
    }

    public int size() {
        return switch (task) {
            case LanguageModeling -> texts.size();
            case Classification, MultipleChoice -> questions.size();
            case Generation -> prompts.size();
        };
    }

    public boolean isEmpty() {
        return size() == 0;
    }

    /** The choices are every distinct label of the set, sorted, so each record is scored against the same list. */
    private static TaskData classification(Path file) throws IOException {
        List<String[]> labelled = lines(file, EvalTask.Classification, json -> {
            String prompt = prompt(json);
            JsonNode label = json.path("label");
            if (!label.isTextual() || label.asText().isEmpty()) {
                throw new Malformed("\"label\" is not a non-empty string");
            }
            return new String[]{prompt, label.asText()};
        });
        TreeSet<String> distinct = new TreeSet<>();
        labelled.forEach(l -> distinct.add(l[1]));
        List<String> labels = List.copyOf(distinct);
        List<ChoiceQuestion> questions = new ArrayList<>();
        for (String[] l : labelled) {
            questions.add(new ChoiceQuestion(l[0], labels, labels.indexOf(l[1])));
        }
        return new TaskData(EvalTask.Classification, List.of(), questions, List.of(), 0);
    }

    private static ChoiceQuestion multipleChoice(JsonNode json) throws Malformed {
        String prompt = prompt(json);
        List<String> choices = strings(json, "choices");
        JsonNode answer = json.path("answer");
        int index;
        if (answer.isIntegralNumber()) {
            index = answer.asInt();
            if (index < 0 || index >= choices.size()) {
                throw new Malformed("\"answer\" " + index + " is not an index of the " + choices.size() + " choices");
            }
        } else if (answer.isTextual()) {
            index = choices.indexOf(answer.asText());
            if (index < 0) {
                throw new Malformed("\"answer\" \"" + answer.asText() + "\" is not one of the choices");
            }
        } else {
            throw new Malformed("\"answer\" is neither an index nor a choice");
        }
        return new ChoiceQuestion(prompt, choices, index);
    }

    private static GenerationPrompt generation(JsonNode json) throws Malformed {
        String prompt = prompt(json);
        if (json.has("references")) {
            return new GenerationPrompt(prompt, strings(json, "references"));
        }
        JsonNode completion = json.path("completion");
        if (!completion.isTextual()) {
            throw new Malformed("neither \"completion\" string nor \"references\" array");
        }
        return new GenerationPrompt(prompt, List.of(completion.asText()));
    }

    private static String prompt(JsonNode json) throws Malformed {
        if (!json.path("prompt").isTextual()) {
            throw new Malformed("\"prompt\" is not a string");
        }
        return json.get("prompt").asText();
    }

    private static List<String> strings(JsonNode json, String field) throws Malformed {
        JsonNode array = json.path(field);
        if (!array.isArray() || array.isEmpty()) {
            throw new Malformed("\"" + field + "\" is not a non-empty array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : array) {
            if (!s.isTextual()) {
                throw new Malformed("\"" + field + "\" holds a non-string");
            }
            out.add(s.asText());
        }
        return out;
    }

    private static final class Malformed extends Exception {
        Malformed(String problem) {
            super(problem, null, false, false);
        }
    }

    private interface RecordShape<T> {
        T parse(JsonNode json) throws Malformed;
    }

    private static <T> List<T> lines(Path file, EvalTask task, RecordShape<T> shape) throws IOException {
        List<T> records = new ArrayList<>();
        int lines = 0;
        int malformed = 0;
        String firstBad = null;
        try (BufferedReader in = open(file)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                lines++;
                String problem;
                try {
                    JsonNode json = JSON.readTree(line);
                    if (json == null || !json.isObject()) {
                        throw new Malformed("not a JSON object");
                    }
                    records.add(shape.parse(json));
                    continue;
                } catch (Malformed e) {
                    problem = e.getMessage();
                } catch (IOException e) {
                    problem = "not JSON";
                }
                malformed++;
                if (firstBad == null) {
                    firstBad = "line " + lines + ": " + problem;
                }
            }
        } catch (NoSuchFileException e) {
            throw DataException.empty("data file " + file + " does not exist");
        }
        String expected = "expected " + shape(task);
        if (records.isEmpty()) {
            throw DataException.empty(file.getFileName() + ": no usable " + task + " records (" + lines + " non-blank lines, "
                    + malformed + " malformed" + (firstBad == null ? "" : ", first at " + firstBad) + "); " + expected);
        }
        if (malformed > lines * Dataset.MAX_MALFORMED_FRACTION) {
            throw DataException.malformed(file.getFileName() + ": " + malformed + " of " + lines + " lines are not valid "
                    + task + " records (first at " + firstBad + "); " + expected + "; the limit is "
                    + (int) (Dataset.MAX_MALFORMED_FRACTION * 100) + "%");
        }
        return records;
    }

    private static BufferedReader open(Path file) throws IOException {
        InputStream raw = Files.newInputStream(file);
        if (file.getFileName().toString().endsWith(".gz")) {
            raw = new GZIPInputStream(raw);
        }
        return new BufferedReader(new InputStreamReader(raw, StandardCharsets.UTF_8));
    }
}
