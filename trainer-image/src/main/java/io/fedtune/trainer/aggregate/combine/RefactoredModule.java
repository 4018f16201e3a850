package io.fedtune.trainer.aggregate.combine;

/**
 * The result of exact product aggregation for one module, at the run's rank and scale.
 *
 * @param factors      the new A and B
 * @param keptEnergy   sum of the squared singular values kept
 * @param totalEnergy  sum of all squared singular values of the exact weighted sum (its squared Frobenius norm)
 */
public record RefactoredModule(LoraFactors factors, double keptEnergy, double totalEnergy) {
    /** Fraction of the exact update's energy that survived truncation (1 when nothing was cut). */
    public double keptFraction() {
        return totalEnergy == 0 ? 1.0 : keptEnergy / totalEnergy;
    }
}
