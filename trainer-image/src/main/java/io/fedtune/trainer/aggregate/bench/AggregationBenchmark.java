package io.fedtune.trainer.aggregate.bench;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.trainer.aggregate.AggregationJob;
import io.fedtune.trainer.storage.StorageSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One measurement of trainer-image/bench/aggregation_bench.py: runs an aggregation task on local files in this (fresh)
 * JVM and prints one JSON line with its wall time, input throughput and the process's peak RSS (VmHWM).
 */
public final class AggregationBenchmark {
    private AggregationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path taskFile = Path.of(args[0]);
        Path work = Path.of(args[1]);
        AggregateTask task = ContractJson.read(Files.readString(taskFile), AggregateTask.class);
        long inputBytes = 0;
        for (var u : task.updates()) {
            inputBytes += Files.size(Path.of(u.adapter()).resolve("adapter_model.safetensors"));
        }
        long start = System.nanoTime();
        AggregateResult result;
        try (StorageSession storage = StorageSession.ofRunStore(null, work)) {
            result = new AggregationJob(task, storage).run();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.println(String.format(Locale.ROOT,
                "{\"strategy\":\"%s\",\"seconds\":%.3f,\"inputBytes\":%d,\"gbPerSecond\":%.3f,\"peakRssMiB\":%.1f,"
                        + "\"accepted\":%d,\"truncationEnergy\":%s}",
                task.aggregation().strategy, seconds, inputBytes, inputBytes / seconds / 1e9, peakRssKiB() / 1024.0,
                result.accepted().size(), result.truncationEnergy()));
    }

    private static long peakRssKiB() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
