package io.fedtune.api.v1alpha1;

/** How accepted updates are combined coordinate by coordinate. */
public enum Combine {
    /** Weighted mean. */
    Mean,
    /** Drop the trimFraction largest and smallest values of each coordinate, then average. */
    TrimmedMean,
    /** Coordinate-wise median. */
    Median
}
