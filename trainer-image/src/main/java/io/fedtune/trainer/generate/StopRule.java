package io.fedtune.trainer.generate;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * When decoding ends: an end-of-sequence id, a stop string in the decoded completion (needs a detokenizer), or
 * maxNewTokens generated.
 */
public record StopRule(int maxNewTokens, Set<Integer> eosIds, List<String> stopStrings, Function<int[], String> detokenizer) {
    public StopRule {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        if (!stopStrings.isEmpty() && detokenizer == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer");
        }
        eosIds = Set.copyOf(eosIds);
        stopStrings = List.copyOf(stopStrings);
    }

    /** Only the token budget: for benchmarks and token-level tests. */
    public static StopRule maxNewTokens(int n) {
        return new StopRule(n, Set.of(), List.of(), null);
    }

    /** Why to stop after the last of these tokens, or null to go on. */
    StopReason check(int[] generated) {
        if (eosIds.contains(generated[generated.length - 1])) {
            return StopReason.EOS;
        }
        if (!stopStrings.isEmpty() && firstStop(text(generated)) >= 0) {
            return StopReason.STOP_STRING;
        }
        return generated.length >= maxNewTokens ? StopReason.MAX_NEW_TOKENS : null;
    }

    /** The completion's text: without a final EOS, and cut before the first stop string. */
    String text(int[] generated, StopReason reason) {
        if (detokenizer == null) {
            return null;
        }
        int n = reason == StopReason.EOS ? generated.length - 1 : generated.length;
        String text = text(Arrays.copyOf(generated, n));
        int cut = firstStop(text);
        return cut >= 0 ? text.substring(0, cut) : text;
    }

    private String text(int[] ids) {
        return detokenizer.apply(ids);
    }

    private int firstStop(String text) {
        int first = -1;
        for (String s : stopStrings) {
            int at = text.indexOf(s);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }
}
