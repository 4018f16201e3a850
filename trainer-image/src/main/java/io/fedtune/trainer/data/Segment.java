package io.fedtune.trainer.data;

/**
 * A piece of a record's text and whether the model is trained to produce it. A framed segment comes from a chat
 * template, which writes the record's BOS and end-of-turn tokens itself, so the chunker adds no BOS or EOS around
 * the record.
 */
public record Segment(String text, boolean loss, boolean framed) {
    public Segment(String text, boolean loss) {
        this(text, loss, false);
    }
}
