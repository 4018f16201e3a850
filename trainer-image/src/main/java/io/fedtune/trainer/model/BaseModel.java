package io.fedtune.trainer.model;

import io.fedtune.trainer.data.Chunker;
import io.fedtune.trainer.data.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A base checkpoint opened for use: its config and tokenizer at once, its weights on the {@link Placement} only when
 * {@link #model()} is first called, so bad data fails before the weights are loaded.
 */
public final class BaseModel implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final TextTokenizer tokenizer;
    private final Placement placement;
    private LlamaModel model;

    private BaseModel(Checkpoint checkpoint, TextTokenizer tokenizer, Placement placement) {
        this.checkpoint = checkpoint;
        this.tokenizer = tokenizer;
        this.placement = placement;
    }

    /** @param placement chosen before the inputs are fetched, so a pod without its GPU fails at once */
    public static BaseModel open(Path dir, Placement placement) throws IOException {
        Checkpoint checkpoint = Checkpoint.open(dir);
        TextTokenizer tokenizer = TextTokenizer.load(checkpoint.tokenizerFile(), checkpoint.config().vocabSize());
        return new BaseModel(checkpoint, tokenizer, placement);
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

    /** Token sequences of at most maxSequenceLength tokens, framed by the model's BOS and EOS. */
    public Chunker chunker(int maxSequenceLength) {
        return new Chunker(tokenizer, maxSequenceLength, config().bosTokenId(), config().eosTokenId());
    }

    public LlamaModel model() throws CheckpointInvalidException {
        if (model == null) {
            model = LlamaModel.load(checkpoint, placement.device(), placement.dataType());
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
