package io.fedtune.trainer.model;

import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.data.Chunker;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A base checkpoint opened for use: its config and tokenizer at once, its weights on the {@link Placement} only when
 * {@link #model()} is first called, so bad data fails before the weights are loaded.
 */
public final class BaseModel implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final TextTokenizer tokenizer;
    private final Placement placement;
    private final Integer bos;
    private LlamaModel model;

    private BaseModel(Checkpoint checkpoint, TextTokenizer tokenizer, Placement placement, Integer bos) {
        this.checkpoint = checkpoint;
        this.tokenizer = tokenizer;
        this.placement = placement;
        this.bos = bos;
    }

    /** @param placement chosen before the inputs are fetched, so a pod without its GPU fails at once */
    public static BaseModel open(Path dir, Placement placement) throws IOException {
        Checkpoint checkpoint = Checkpoint.open(dir);
        LlamaModel.checkQuantization(checkpoint.config(), placement.quantization());
        TextTokenizer tokenizer = TextTokenizer.load(checkpoint.tokenizerFile(), checkpoint.config().vocabSize());
        Integer bos;
        try {
            bos = BosToken.of(dir, tokenizer, checkpoint.config().bosTokenId());
        } catch (CheckpointInvalidException e) {
            tokenizer.close();
            throw e;
        }
        return new BaseModel(checkpoint, tokenizer, placement, bos);
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public Placement placement() {
        return placement;
    }

    /** The BOS the tokenizer adds ({@link BosToken}), or null for none. */
    public Integer bos() {
        return bos;
    }

    /** Token sequences of at most maxSequenceLength tokens, framed by the tokenizer's BOS and config.json's EOS. */
    public Chunker chunker(int maxSequenceLength) {
        return new Chunker(tokenizer, maxSequenceLength, bos, config().eosTokenId());
    }

    /**
     * The checkpoint's chat template when any of the formats needs it (Chat, PromptCompletionChat), else null.
     *
     * @throws CheckpointInvalidException when Chat is asked for and tokenizer_config.json has no chat_template
     */
    public ChatTemplate chatTemplate(DataFormat... formats) throws CheckpointInvalidException {
        DataFormat templated = Arrays.stream(formats).filter(DataFormat::needsTemplate).findFirst().orElse(null);
        if (templated == null) {
            return null;
        }
        return requireChatTemplate(templated == DataFormat.CHAT ? "format Chat renders conversations"
                : "format PromptCompletionChat renders each prompt and completion as a user and an assistant turn",
                "or use format Text or PromptCompletion");
    }

    /**
     * The checkpoint's chat template.
     *
     * @param use       what needs it, for the error ("generate --chat renders each prompt")
     * @param otherwise the way round it, for the error
     * @throws CheckpointInvalidException when tokenizer_config.json is missing or has no chat_template
     */
    public ChatTemplate requireChatTemplate(String use, String otherwise) throws CheckpointInvalidException {
        Path file = checkpoint.dir().resolve(ChatTemplate.FILE);
        java.util.Optional<ChatTemplate> template;
        try {
            template = ChatTemplate.read(checkpoint.dir());
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return template.orElseThrow(() -> new CheckpointInvalidException(
                use + " with the base model's chat template, but "
                        + (Files.isRegularFile(file) ? file + " has no \"" + ChatTemplate.FIELD + "\" field"
                        : "the checkpoint has no " + ChatTemplate.FILE + " (looked for " + file + ")")
                        + "; add the model's tokenizer_config.json with its chat_template to the checkpoint, " + otherwise));
    }

    public LlamaModel model() throws CheckpointInvalidException {
        if (model == null) {
            model = LlamaModel.load(checkpoint, placement.device(), placement.dataType(), placement.quantization());
        }
        return model;
    }

    @Override
    public void close() {
        try {
            if (model != null) {
                model.close();
            }
        } finally {
            tokenizer.close();
        }
    }
}
