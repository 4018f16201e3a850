package io.fedtune.trainer.aggregate.verify;

import io.fedtune.trainer.aggregate.AdapterLayout;
import io.fedtune.trainer.aggregate.GlobalAdapter;
import io.fedtune.trainer.aggregate.combine.LoraFactors;
import io.fedtune.trainer.aggregate.combine.ProductNorm;
import io.fedtune.trainer.storage.Sha256;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One update's values, tensor by tensor: every value finite, the update's squared norm against the previous global
 * adapter (as {@link NormOf} says), and for FFA a digest of its A factors.
 */
final class UpdateMeasure {
    private final AdapterLayout layout;
    private final NormOf normOf;
    private final GlobalAdapter previous;
    private final int rank;
    private final double scale;
    private final Map<String, AdapterLayout.Module> moduleOf = new HashMap<>();
    private final Map<String, float[]> pendingFactors = new HashMap<>();
    private final Map<String, byte[]> aDigests = new TreeMap<>();
    private double squaredNorm;
    private String nonFinite;

    UpdateMeasure(AdapterLayout layout, NormOf normOf, GlobalAdapter previous, int rank, double scale) {
        this.layout = layout;
        this.normOf = normOf;
        this.previous = previous;
        this.rank = rank;
        this.scale = scale;
        for (AdapterLayout.Module m : layout.modules()) {
            moduleOf.put(m.aName(), m);
            moduleOf.put(m.bName(), m);
        }
    }

    /** Adds one tensor; false where it (or an earlier one) is not finite. The array is kept only for PRODUCT, until its partner factor arrives. */
    boolean add(String name, float[] values) {
        if (nonFinite != null) {
            return false;
        }
        AdapterLayout.Module module = moduleOf.get(name);
        boolean isA = name.equals(module.aName());
        float[] reference = previous == null ? null : previous.tensor(name);
        // a NaN or infinity anywhere makes the sum of squares non-finite, so one pass checks both
        double sumOfSquares = squaredDistance(values, normOf == NormOf.PRODUCT ? null : reference);
        if (!Double.isFinite(sumOfSquares)) {
            nonFinite = firstNonFinite(name, values);
            return false;
        }
        switch (normOf) {
            case FACTORS -> squaredNorm += sumOfSquares;
            case B_FACTORS -> {
                if (isA) {
                    aDigests.put(name, Sha256.of(values));
                } else {
                    squaredNorm += sumOfSquares;
                }
            }
            case PRODUCT -> {
                float[] partner = pendingFactors.remove(isA ? module.bName() : module.aName());
                if (partner == null) {
                    pendingFactors.put(name, values);
                } else {
                    LoraFactors own = new LoraFactors(isA ? values : partner, isA ? partner : values, rank, module.in(),
                            module.out(), scale);
                    squaredNorm += previous == null ? ProductNorm.squared(List.of(own), new double[] {1})
                            : ProductNorm.squared(List.of(own, previous.factors(module)), new double[] {1, -1});
                }
            }
        }
        return true;
    }

    /** Where a value is not finite, or null. */
    String nonFinite() {
        return nonFinite;
    }

    double norm() {
        return Math.sqrt(squaredNorm);
    }

    /** SHA-256 over the A factors' digests in name order (FFA's check that A stayed shared). */
    String frozenADigest() {
        MessageDigest sha = Sha256.digest();
        aDigests.values().forEach(sha::update);
        return Sha256.hex(sha);
    }

    /** The same digest of an adapter held in memory (the previous global one). */
    static String frozenADigest(AdapterLayout layout, GlobalAdapter adapter) {
        MessageDigest sha = Sha256.digest();
        layout.modules().stream().map(AdapterLayout.Module::aName).sorted()
                .forEach(name -> sha.update(Sha256.of(adapter.tensor(name))));
        return Sha256.hex(sha);
    }

    private static String firstNonFinite(String name, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return name + "[" + i + "] is " + values[i];
            }
        }
        return name + ": its values overflow when squared";
    }

    /** Σ (x − reference)²; four accumulators so the additions do not wait on each other. */
    private static double squaredDistance(float[] x, float[] reference) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int n = x.length;
        int i = 0;
        if (reference == null) {
            for (; i + 3 < n; i += 4) {
                s0 += (double) x[i] * x[i];
                s1 += (double) x[i + 1] * x[i + 1];
                s2 += (double) x[i + 2] * x[i + 2];
                s3 += (double) x[i + 3] * x[i + 3];
            }
            for (; i < n; i++) {
                s0 += (double) x[i] * x[i];
            }
        } else {
            for (; i + 3 < n; i += 4) {
                double d0 = (double) x[i] - reference[i];
                double d1 = (double) x[i + 1] - reference[i + 1];
                double d2 = (double) x[i + 2] - reference[i + 2];
                double d3 = (double) x[i + 3] - reference[i + 3];
                s0 += d0 * d0;
                s1 += d1 * d1;
                s2 += d2 * d2;
                s3 += d3 * d3;
            }
            for (; i < n; i++) {
                double d = (double) x[i] - reference[i];
                s0 += d * d;
            }
        }
        return (s0 + s1) + (s2 + s3);
    }
}
