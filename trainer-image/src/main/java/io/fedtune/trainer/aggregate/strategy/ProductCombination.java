package io.fedtune.trainer.aggregate.strategy;

import io.fedtune.trainer.aggregate.AdapterLayout;
import io.fedtune.trainer.aggregate.AggregationInputs;
import io.fedtune.trainer.aggregate.Contribution;
import io.fedtune.trainer.aggregate.GlobalOutput;
import io.fedtune.trainer.aggregate.TruncationEnergy;
import io.fedtune.trainer.aggregate.WorkerResult;
import io.fedtune.trainer.aggregate.combine.LoraFactors;
import io.fedtune.trainer.aggregate.combine.ProductAggregation;
import io.fedtune.trainer.aggregate.combine.RefactoredModule;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * ExactProduct's output, module by module: Σ c_i s_i B_i A_i (+ the previous global's share where clipping left one),
 * re-factored to the run's rank. Modules are independent: a window of them is re-factored in parallel and written in
 * order (A and B of a module are adjacent in name order).
 */
final class ProductCombination {
    private ProductCombination() {
    }

    static TruncationEnergy write(AggregationInputs in, List<Contribution> accepted, Path weightsFile) throws IOException {
        double targetScale = in.lora().alpha / in.lora().rank;
        TruncationEnergy.Sum energy = new TruncationEnergy.Sum();
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        ArrayDeque<Future<RefactoredModule>> window = new ArrayDeque<>();
        ArrayDeque<AdapterLayout.Module> windowModules = new ArrayDeque<>();
        try (UpdateReaders readers = UpdateReaders.open(accepted);
             SafetensorsWriter writer = SafetensorsWriter.create(weightsFile,
                     GlobalOutput.tensors(in.layout(), in.lora().rank), GlobalOutput.METADATA)) {
            int moduleIndex = 0;
            for (AdapterLayout.Module m : in.layout().modules()) {
                List<LoraFactors> factors = new ArrayList<>();
                List<Double> coefficients = new ArrayList<>();
                double sum = 0;
                for (int i = 0; i < accepted.size(); i++) {
                    Contribution c = accepted.get(i);
                    factors.add(new LoraFactors(readers.get(i).readFloats(m.aName()), readers.get(i).readFloats(m.bName()),
                            c.update().rank(), m.in(), m.out(), c.update().scale()));
                    coefficients.add(c.coefficient());
                    sum += c.coefficient();
                }
                if (in.previous() != null && sum < 1 - 1e-12) {
                    factors.add(in.previous().factors(m));
                    coefficients.add(1 - sum);
                }
                double[] c = coefficients.stream().mapToDouble(Double::doubleValue).toArray();
                long seed = in.seed() * 31 + moduleIndex++;
                window.add(pool.submit(() -> ProductAggregation.aggregate(factors, c, in.lora().rank, targetScale, seed)));
                windowModules.add(m);
                if (window.size() >= threads) {
                    writeOldest(window, windowModules, writer, energy);
                }
            }
            while (!window.isEmpty()) {
                writeOldest(window, windowModules, writer, energy);
            }
        } finally {
            pool.shutdownNow();
        }
        return energy.result();
    }

    private static void writeOldest(ArrayDeque<Future<RefactoredModule>> window, ArrayDeque<AdapterLayout.Module> modules,
            SafetensorsWriter writer, TruncationEnergy.Sum energy) throws IOException {
        RefactoredModule result = WorkerResult.await(window.poll());
        AdapterLayout.Module done = modules.poll();
        writer.write(done.aName(), result.factors().a());
        writer.write(done.bName(), result.factors().b());
        energy.add(result);
    }
}
