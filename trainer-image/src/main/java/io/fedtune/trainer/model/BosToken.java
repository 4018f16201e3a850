package io.fedtune.trainer.model;

import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.data.TextTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The BOS a checkpoint's tokenizer puts before a text it encodes with its special tokens, which fedtune puts before
 * Text and PromptCompletion sequences, prompts and evaluation contexts: what tokenizer.json's post_processor adds
 * (Llama 3.1's and Gemma's TemplateProcessing: {@code <|begin_of_text|>}, {@code <bos>}; a ByteLevel one alone, as Qwen
 * and the first Llama 3 release have: nothing). That is what the tokenizers library, transformers.js and transformers
 * 5's generic tokenizer (PreTrainedTokenizerFast, TokenizersBackend) add; transformers 5.18 was seen to ignore
 * tokenizer_config.json's add_bos_token there, with or without a post_processor. Where that file has none and the
 * post_processor adds nothing, config.json's bos_token_id stays: fedtune's own pretrained checkpoints
 * (trainer-image/base-model) were trained with it. config.json's bos_token_id plays no part otherwise: Qwen3's names
 * {@code <|endoftext|>}, which its tokenizer never adds.
 */
public final class BosToken {
    private BosToken() {
    }

    /** @return the BOS id, or null for none */
    public static Integer of(Path checkpointDir, TextTokenizer tokenizer, Integer configBos) throws CheckpointInvalidException {
        int[] plain = tokenizer.encode("a");
        int[] framed = tokenizer.encodeWithSpecialTokens("a");
        int at = indexOf(framed, plain);
        if (at < 0) {
            throw new CheckpointInvalidException("tokenizer.json's post_processor changes a text's own tokens (\"a\": "
                    + Arrays.toString(plain) + ", with special tokens " + Arrays.toString(framed) + "); only an added BOS is supported");
        }
        if (at > 1) {
            throw new CheckpointInvalidException("tokenizer.json's post_processor puts " + at + " tokens before a text "
                    + Arrays.toString(Arrays.copyOf(framed, at)) + "; fedtune frames a sequence with one BOS at most");
        }
        if (at == 1) {
            return framed[0];
        }
        return Files.isRegularFile(checkpointDir.resolve(ChatTemplate.FILE)) ? null : configBos;
    }

    private static int indexOf(int[] in, int[] part) {
        for (int i = 0; i + part.length <= in.length; i++) {
            if (Arrays.equals(Arrays.copyOfRange(in, i, i + part.length), part)) {
                return i;
            }
        }
        return -1;
    }
}
