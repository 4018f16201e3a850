package io.fedtune.trainer.eval;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How a generated answer is compared with its references. Both are normalised first: lowercased (root locale), every
 * Unicode punctuation character removed, runs of whitespace collapsed to one space, ends trimmed.
 */
public final class AnswerText {
    private AnswerText() {
    }

    public static String normalise(String text) {
        String lower = text.toLowerCase(Locale.ROOT).replaceAll("\\p{P}", "");
        return lower.replaceAll("\\s+", " ").strip();
    }

    /** 1 when the normalised answer equals one normalised reference, else 0. */
    public static double exactMatch(String answer, List<String> references) {
        String a = normalise(answer);
        for (String r : references) {
            if (normalise(r).equals(a)) {
                return 1;
            }
        }
        return 0;
    }

    /** The best ROUGE-L F1 over the references. */
    public static double rougeL(String answer, List<String> references) {
        double best = 0;
        for (String r : references) {
            best = Math.max(best, rougeL(answer, r));
        }
        return best;
    }

    /**
     * ROUGE-L F1 (beta 1) on normalised words: with L the longest common subsequence, precision L / answer words, recall
     * L / reference words, F1 = 2PR / (P + R); 0 when either is empty or nothing is shared (1 when both are empty).
     */
    public static double rougeL(String answer, String reference) {
        String[] a = words(answer);
        String[] r = words(reference);
        if (a.length == 0 || r.length == 0) {
            return a.length == r.length ? 1 : 0;
        }
        int lcs = longestCommonSubsequence(a, r);
        if (lcs == 0) {
            return 0;
        }
        double precision = (double) lcs / a.length;
        double recall = (double) lcs / r.length;
        return 2 * precision * recall / (precision + recall);
    }

    private static String[] words(String text) {
        String n = normalise(text);
        return n.isEmpty() ? new String[0] : n.split(" ");
    }

    static int longestCommonSubsequence(String[] a, String[] b) {
        int[] previous = new int[b.length + 1];
        int[] current = new int[b.length + 1];
        for (String x : a) {
            for (int j = 1; j <= b.length; j++) {
                current[j] = x.equals(b[j - 1]) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
            }
            int[] t = previous;
            previous = current;
            current = t;
            Arrays.fill(current, 0);
        }
        return previous[b.length];
    }
}
