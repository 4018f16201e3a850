package io.fedtune.trainer.data;

/** A piece of a record's text and whether the model is trained to produce it. */
public record Segment(String text, boolean loss) {
}
