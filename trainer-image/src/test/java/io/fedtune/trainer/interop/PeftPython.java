package io.fedtune.trainer.interop;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A Python that imports torch, transformers, peft and safetensors, for the PEFT interop tier: FEDTUNE_PEFT_PYTHON when
 * set, else the venv at ~/.cache/fedtune/peft-venv (FEDTUNE_PEFT_VENV moves it), created once with {@code python3 -m
 * venv} and {@code pip install torch transformers peft safetensors} (FEDTUNE_PEFT_PIP_ARGS adds pip arguments, e.g. a
 * CPU-only torch index) and reused while it imports. Where it cannot be had the tier fails under CI=true, naming
 * the error, and is skipped elsewhere with the reason on stderr.
 */
final class PeftPython {
    static final List<String> PACKAGES = List.of("torch", "transformers", "peft", "safetensors");
    private static final String IMPORT_CHECK = "import torch, transformers, peft, safetensors; "
            + "print(torch.__version__, transformers.__version__, peft.__version__)";
    private static String python;
    private static String problem;
    private static String versions;

    private PeftPython() {
    }

    /** The interpreter's path; aborts (or, under CI=true, fails) the calling test when there is none. */
    static synchronized String require() {
        if (python == null && problem == null) {
            try {
                python = find();
            } catch (IOException e) {
                problem = e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem = "interrupted while preparing the PEFT venv";
            }
        }
        if (problem != null) {
            String why = "the PEFT interop tier needs a Python with " + PACKAGES + ": " + problem;
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI must run the PEFT interop tier; " + why);
            }
            System.err.println("SKIPPED " + why);
            Assumptions.abort(why);
        }
        return python;
    }

    static synchronized String versions() {
        return versions;
    }

    static Path venv() {
        String dir = System.getenv("FEDTUNE_PEFT_VENV");
        return dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "fedtune", "peft-venv");
    }

    private static String find() throws IOException, InterruptedException {
        String given = System.getenv("FEDTUNE_PEFT_PYTHON");
        if (given != null) {
            versions = run(List.of(given, "-c", IMPORT_CHECK), 300, "FEDTUNE_PEFT_PYTHON=" + given + " cannot import them");
            return given;
        }
        Path venv = venv();
        Path bin = venv.resolve("bin").resolve("python");
        if (Files.isExecutable(bin)) {
            try {
                versions = run(List.of(bin.toString(), "-c", IMPORT_CHECK), 300, "");
                return bin.toString();
            } catch (IOException broken) {
                System.err.println("PEFT venv " + venv + " does not import " + PACKAGES + " (" + broken.getMessage()
                        + "); building it again");
                deleteTree(venv);
            }
        }
        // built beside it and moved into place whole, so a build killed halfway leaves no venv that looks ready
        Files.createDirectories(venv.getParent());
        Path building = Files.createTempDirectory(venv.getParent(), venv.getFileName() + ".building-");
        try {
            System.err.println("creating the PEFT interop venv in " + venv + " (pip install " + String.join(" ", PACKAGES)
                    + "; minutes, once)");
            run(List.of("python3", "-m", "venv", building.toString()), 300,
                    "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)");
            List<String> pip = new ArrayList<>(List.of(building.resolve("bin/python").toString(), "-m", "pip", "install",
                    "--quiet", "--disable-pip-version-check", "--retries", "1"));
            String extra = System.getenv("FEDTUNE_PEFT_PIP_ARGS");
            if (extra != null && !extra.isBlank()) {
                pip.addAll(List.of(extra.trim().split("\\s+")));
            }
            pip.addAll(PACKAGES);
            run(pip, 3600, "pip install " + String.join(" ", PACKAGES) + " failed");
            try {
                Files.move(building, venv, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException | AtomicMoveNotSupportedException raced) {
                // another build finished one first: use that
                deleteTree(building);
            }
            versions = run(List.of(bin.toString(), "-c", IMPORT_CHECK), 300, "the new venv " + venv + " cannot import them");
            return bin.toString();
        } finally {
            if (Files.exists(building)) {
                deleteTree(building);
            }
        }
    }

    /** Runs a command and returns its stdout; failing, an IOException with the context and the output's tail. */
    static String run(List<String> command, long seconds, String context) throws IOException, InterruptedException {
        Path log = Files.createTempFile("fedtune-peft-", ".log");
        try {
            Process p;
            try {
                p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                throw new IOException(context + (context.isEmpty() ? "" : ": ") + "cannot start " + command.get(0) + ": "
                        + e.getMessage(), e);
            }
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(context + ": " + String.join(" ", command) + " did not finish in " + seconds + " s");
            }
            String out = Files.readString(log).strip();
            if (p.exitValue() != 0) {
                String tail = out.length() > 2000 ? "..." + out.substring(out.length() - 2000) : out;
                throw new IOException((context.isEmpty() ? "" : context + ": ") + command.get(0) + " exited "
                        + p.exitValue() + ": " + tail);
            }
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
