package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Partition;
import io.fedtune.trainer.data.QualitySkew;
import io.fedtune.trainer.storage.StorageSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "partition", mixinStandardHelpOptions = true,
        description = "Split a JSONL corpus into N non-IID shards with Dirichlet(alpha) proportions over context-length classes or over amount, optionally with a quality skew (a drawn share of each shard's records degraded); writes shard-NNN.jsonl, summary.json and summary.txt.")
final class PartitionCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "JSONL (.gz allowed), local or s3://") String data;
    @Option(names = "--format", defaultValue = "Text") String format;
    @Option(names = "--shards", required = true) int shards;
    @Option(names = "--alpha", defaultValue = "0.5", description = "Dirichlet concentration (default ${DEFAULT-VALUE}); smaller is less IID") double alpha;
    @Option(names = "--by", defaultValue = "length", description = "length (Dirichlet per context-length class) or amount") String by;
    @Option(names = "--classes", defaultValue = "3", description = "number of context-length classes (quantiles)") int classes;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--degraded-fraction", defaultValue = "0",
            description = "quality skew: each shard's share of degraded records is drawn uniformly in [0, MAX] (default 0: none)")
    double degradedFraction;
    @Option(names = "--degrade", split = ",", defaultValue = "shuffle,truncate,mismatch",
            description = "degradations to draw from (default ${DEFAULT-VALUE})") List<String> degrade;
    @Option(names = "--out", required = true, description = "output directory or s3:// prefix") String out;

    @Override
    public Integer call() throws Exception {
        try (StorageSession storage = Environment.system().session()) {
            Partition.Mode mode = Partition.Mode.valueOf(by.toUpperCase(Locale.ROOT));
            QualitySkew quality = new QualitySkew(degradedFraction, degrade.stream().map(QualitySkew.Kind::parse).toList());
            Partition.Result r = Partition.split(storage.fetch(data), DataFormat.parse(format), shards, alpha, mode, classes, seed,
                    quality);
            Path dir = storage.outputDirectory(out);
            for (int s = 0; s < shards; s++) {
                Files.write(dir.resolve(String.format("shard-%03d.jsonl", s)), r.shards().get(s));
            }
            String table = Partition.table(r);
            Files.writeString(dir.resolve("summary.txt"), table);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("alpha", alpha);
            json.put("by", by);
            json.put("seed", seed);
            if (quality.enabled()) {
                json.put("degradedFraction", degradedFraction);
                json.put("degrade", quality.kinds().stream().map(QualitySkew.Kind::wireName).toList());
            }
            json.put("classBounds", r.classBounds());
            json.put("shards", r.summary());
            Files.writeString(dir.resolve("summary.json"), new ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsString(json) + "\n");
            storage.publish(dir, out, StorageSession.files(dir));
            System.out.print(table);
            return 0;
        }
    }
}
