package io.fedtune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** A JSONL dataset's usable records, with a count of the malformed lines that were skipped. */
public record Dataset(List<List<Segment>> records, int lines, int malformed) {
    /** Above this fraction of malformed lines a run fails instead of training on what is left. */
    public static final double MAX_MALFORMED_FRACTION = 0.1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public static Dataset read(Path file, DataFormat format) throws IOException {
        return read(file, format, record -> true, null);
    }

    /** @param template the checkpoint's chat template; required for {@link DataFormat#CHAT}, else ignored */
    public static Dataset read(Path file, DataFormat format, ChatTemplate template) throws IOException {
        return read(file, format, record -> true, template);
    }

    public static Dataset read(Path file, DataFormat format, java.util.function.Predicate<JsonNode> filter) throws IOException {
        return read(file, format, filter, null);
    }

    /** Reads the records that pass the filter (applied to each line's JSON object before the format). */
    public static Dataset read(Path file, DataFormat format, java.util.function.Predicate<JsonNode> filter,
                               ChatTemplate template) throws IOException {
        List<List<Segment>> records = new ArrayList<>();
        int lines = 0;
        int malformed = 0;
        String firstBad = null;
        try (BufferedReader in = open(file)) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                lines++;
                List<Segment> segments;
                JsonNode json;
                try {
                    json = JSON.readTree(line);
                } catch (IOException e) {
                    json = null;
                }
                if (json != null && json.isObject() && !filter.test(json)) {
                    lines--;
                    continue;
                }
                segments = format.segments(json, template);
                if (segments == null) {
                    malformed++;
                    if (firstBad == null) {
                        firstBad = "line " + lines;
                    }
                } else {
                    records.add(segments);
                }
            }
        } catch (NoSuchFileException e) {
            throw DataException.empty("data file " + file + " does not exist");
        }
        if (records.isEmpty()) {
            throw DataException.empty(file.getFileName() + ": no usable " + format + " records (" + lines
                    + " non-blank lines, " + malformed + " malformed)");
        }
        if (malformed > lines * MAX_MALFORMED_FRACTION) {
            throw DataException.malformed(file.getFileName() + ": " + malformed + " of " + lines
                    + " lines are not valid " + format + " records (first at " + firstBad + "); the limit is "
                    + (int) (MAX_MALFORMED_FRACTION * 100) + "%");
        }
        return new Dataset(records, lines, malformed);
    }

    private static BufferedReader open(Path file) throws IOException {
        java.io.InputStream raw = Files.newInputStream(file);
        if (file.getFileName().toString().endsWith(".gz")) {
            raw = new java.util.zip.GZIPInputStream(raw);
        }
        return new BufferedReader(new java.io.InputStreamReader(raw, StandardCharsets.UTF_8));
    }

    /** A seeded split of records (not chunks, so no document is in both); eval gets at least one record when there are two or more. */
    public Split split(double evalFraction, long seed) {
        List<List<Segment>> shuffled = new ArrayList<>(records);
        Collections.shuffle(shuffled, new Random(seed));
        int eval = records.size() < 2 ? 0 : Math.max(1, (int) Math.round(records.size() * evalFraction));
        return new Split(shuffled.subList(eval, shuffled.size()), shuffled.subList(0, eval));
    }

    public record Split(List<List<Segment>> train, List<List<Segment>> eval) {
    }
}
