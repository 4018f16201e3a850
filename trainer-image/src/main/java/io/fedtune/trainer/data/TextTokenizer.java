package io.fedtune.trainer.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

/** A Hugging Face tokenizer.json, loaded through DJL, that encodes without truncation or special tokens. */
public final class TextTokenizer implements AutoCloseable {
    /** The largest tokenizer.json read: real vocabularies of 256k tokens are about 35 MB. */
    public static final long CAP = 64 * io.fedtune.trainer.storage.SmallFile.MiB;

    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int vocabSize) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
    }

    /**
     * Loads the tokenizer and checks its ids fit in the model's embedding table.
     *
     * @throws TokenizerMismatchException when the tokenizer is missing, unreadable or has ids beyond modelVocab
     */
    public static TextTokenizer load(Path file, int modelVocab) throws TokenizerMismatchException {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerMismatchException("no tokenizer.json at " + file);
        }
        int size;
        try {
            long bytes = Files.size(file);
            if (bytes > CAP) {
                throw new TokenizerMismatchException(new io.fedtune.trainer.storage.SmallFile.TooLarge(file, bytes, CAP).getMessage());
            }
            size = idCount(new ObjectMapper().readTree(file.toFile()));
        } catch (IOException e) {
            throw new TokenizerMismatchException("tokenizer.json is not valid JSON: " + e.getMessage());
        }
        if (size > modelVocab) {
            throw new TokenizerMismatchException("tokenizer.json has ids up to " + (size - 1)
                    + " but the model's vocab_size is " + modelVocab);
        }
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                    .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
            return new TextTokenizer(t, size);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerMismatchException("cannot load tokenizer.json: " + e.getMessage());
        }
    }

    private static int idCount(JsonNode json) throws TokenizerMismatchException {
        int max = -1;
        for (Iterator<JsonNode> it = json.path("model").path("vocab").elements(); it.hasNext(); ) {
            JsonNode id = it.next();
            max = Math.max(max, id.isInt() ? id.asInt() : id.path(1).asInt(-1));
        }
        for (JsonNode added : json.path("added_tokens")) {
            max = Math.max(max, added.path("id").asInt(-1));
        }
        if (max < 0) {
            throw new TokenizerMismatchException("tokenizer.json has no vocabulary");
        }
        return max + 1;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    /** As Hugging Face's encode with add_special_tokens: what tokenizer.json's post_processor adds (a BOS) included. */
    public int[] encodeWithSpecialTokens(String text) {
        long[] ids = tokenizer.encode(text, true, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    /** As {@link #decode}, keeping special tokens such as {@code <|eot_id|>} in the text. */
    public String decodeWithSpecial(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, false);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
