package io.fedtune.trainer.aggregate.privacy;

import java.util.random.RandomGenerator;

/**
 * Central differential privacy at the client level (McMahan et al. 2018, DP-FedAvg): each shard's update is clipped to
 * L2 norm C, the clipped updates are summed, Gaussian noise N(0, (zC)²) is added to each coordinate of the sum, and the
 * sum is divided by the number of shards n. Every shard weighs 1/n, so one shard moves the average by at most C/n.
 */
public final class ClientPrivacy {
    private final double clipNorm;
    private final double noiseMultiplier;

    public ClientPrivacy(double clipNorm, double noiseMultiplier) {
        if (!(clipNorm > 0) || !(noiseMultiplier >= 0)) {
            throw new IllegalArgumentException("clipNorm must be > 0 and noiseMultiplier >= 0");
        }
        this.clipNorm = clipNorm;
        this.noiseMultiplier = noiseMultiplier;
    }

    public double clipNorm() {
        return clipNorm;
    }

    public double noiseMultiplier() {
        return noiseMultiplier;
    }

    /** The factor that brings an update of this norm within C. */
    public double clipScale(double norm) {
        return norm > clipNorm ? clipNorm / norm : 1.0;
    }

    /** Standard deviation of the noise on the average of n shards' updates: zC / n. */
    public double noiseStdOnAverage(int shards) {
        return noiseMultiplier * clipNorm / shards;
    }

    /** Adds the noise of the average of n shards to {@code average}, coordinate by coordinate. */
    public void addNoise(float[] average, int shards, RandomGenerator random) {
        double std = noiseStdOnAverage(shards);
        if (std == 0) {
            return;
        }
        for (int j = 0; j < average.length; j++) {
            average[j] += (float) (std * random.nextGaussian());
        }
    }
}
