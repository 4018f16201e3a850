package io.fedtune.trainer.aggregate;

/**
 * An accepted update and how much it counts.
 *
 * @param weight normalised weight in the combination
 * @param clip   factor its update is scaled by (norm bound Clip mode, privacy clipping); 1 when untouched
 */
public record Contribution(VerifiedUpdate update, double weight, double clip) {

    /** Its coefficient in the weighted sum: weight times clip. */
    public double coefficient() {
        return weight * clip;
    }
}
