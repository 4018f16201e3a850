package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.aggregate.combine.RefactoredModule;

/**
 * How much of the exact weighted sum of updates ExactProduct's truncation to the run's rank kept.
 *
 * @param kept        fraction of the squared Frobenius norm kept, over all modules
 * @param worstModule the smallest fraction one module kept
 */
public record TruncationEnergy(double kept, double worstModule) {

    /** Summed module by module. */
    public static final class Sum {
        private double kept;
        private double total;
        private double worst = 1;

        public void add(RefactoredModule module) {
            kept += module.keptEnergy();
            total += module.totalEnergy();
            worst = Math.min(worst, module.keptFraction());
        }

        public TruncationEnergy result() {
            return new TruncationEnergy(total == 0 ? 1.0 : kept / total, worst);
        }
    }
}
