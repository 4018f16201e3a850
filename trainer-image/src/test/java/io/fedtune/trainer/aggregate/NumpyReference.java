package io.fedtune.trainer.aggregate;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a python3 script with numpy/scipy as an independent reference; skips the test where they are not installed. */
public final class NumpyReference {
    private NumpyReference() {
    }

    /** Runs {@code script} with {@code input} on stdin and returns stdout's whitespace-separated numbers. */
    public static double[] run(String script, String input) {
        try {
            Process p = new ProcessBuilder("python3", "-c", script).redirectErrorStream(false).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assumeTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 timed out");
            assumeTrue(!err.contains("ModuleNotFoundError"), "numpy/scipy not installed: " + err);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("reference script failed: " + err);
            }
            List<Double> values = new ArrayList<>();
            for (String token : out.trim().split("\\s+")) {
                if (!token.isEmpty()) {
                    values.add(Double.parseDouble(token));
                }
            }
            return values.stream().mapToDouble(Double::doubleValue).toArray();
        } catch (IOException e) {
            assumeTrue(false, "python3 not available: " + e.getMessage());
            return new double[0];
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Space-separated numbers, for a script's stdin. */
    public static String numbers(float[] values) {
        StringBuilder sb = new StringBuilder();
        for (float v : values) {
            sb.append(v).append(' ');
        }
        return sb.append('\n').toString();
    }
}
