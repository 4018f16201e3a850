package io.fedtune.trainer.data;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;

/**
 * In-context fine-tuning (spec.training.inContextExamples): each training sequence is preceded by up to k
 * demonstrations, other training records of the same shard drawn with the plan's seed, each followed by a blank line,
 * none of them with loss. A demonstration goes in only whole and only where it fits within maxLength beside the
 * sequence; one that does not fit is dropped, the record's own tokens are never cut for it. A Text record is packed
 * into chunks as without demonstrations and each chunk gets its own draw in the room it leaves (a full chunk gets none).
 */
public final class Demonstrations {
    private final int k;
    private final long seed;

    /** @param meanDemonstrations demonstrations per training sequence, on average */
    public record Sequences(List<TokenSequence> sequences, double meanDemonstrations) {
    }

    public Demonstrations(int k, long seed) {
        if (k < 0) {
            throw new IllegalArgumentException("inContextExamples must be >= 0");
        }
        this.k = k;
        this.seed = seed;
    }

    /** The records' sequences as {@link Chunker#sequences} makes them, each with the demonstrations that fit before it. */
    public Sequences sequences(List<List<Segment>> records, Chunker chunker) {
        if (k == 0 || records.size() < 2) {
            return new Sequences(chunker.sequences(records), 0);
        }
        Random random = new Random(seed);
        int[][] demonstration = new int[records.size()][];
        List<TokenSequence> out = new ArrayList<>();
        long used = 0;
        for (int i = 0; i < records.size(); i++) {
            for (TokenSequence own : chunker.sequences(List.of(records.get(i)))) {
                int room = chunker.maxLength() - own.length();
                List<int[]> chosen = new ArrayList<>();
                for (int j : draw(i, records.size(), random)) {
                    if (demonstration[j] == null) {
                        demonstration[j] = chunker.encode(text(records.get(j)));
                    }
                    if (demonstration[j].length <= room) {
                        chosen.add(demonstration[j]);
                        room -= demonstration[j].length;
                    }
                }
                out.add(chosen.isEmpty() ? own : prefixed(own, chosen, chunker.prefixLength()));
                used += chosen.size();
            }
        }
        return new Sequences(out, out.isEmpty() ? 0 : (double) used / out.size());
    }

    /** k distinct indices other than self (all others, in a seeded order, when there are fewer). */
    private int[] draw(int self, int n, Random random) {
        int want = Math.min(k, n - 1);
        LinkedHashSet<Integer> picked = new LinkedHashSet<>();
        while (picked.size() < want) {
            int j = random.nextInt(n - 1);
            picked.add(j >= self ? j + 1 : j);
        }
        return picked.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A record's whole text (prompt and completion, or every turn), then a blank line. */
    static String text(List<Segment> record) {
        StringBuilder sb = new StringBuilder();
        record.forEach(s -> sb.append(s.text()));
        return sb.toString().stripTrailing() + "\n\n";
    }

    /** BOS (when there is one), the demonstrations without loss, then the sequence's own tokens and loss as they were. */
    private static TokenSequence prefixed(TokenSequence own, List<int[]> chosen, int head) {
        int extra = chosen.stream().mapToInt(d -> d.length).sum();
        int[] tokens = new int[own.length() + extra];
        boolean[] loss = new boolean[tokens.length];
        System.arraycopy(own.tokens(), 0, tokens, 0, head);
        System.arraycopy(own.loss(), 0, loss, 0, head);
        int at = head;
        for (int[] d : chosen) {
            System.arraycopy(d, 0, tokens, at, d.length);
            at += d.length;
        }
        System.arraycopy(own.tokens(), head, tokens, at, own.length() - head);
        System.arraycopy(own.loss(), head, loss, at, own.length() - head);
        if (head == 0) {
            // without a BOS nothing predicted the record's first token; it stays out of the loss here too
            loss[at] = false;
        }
        return new TokenSequence(tokens, loss);
    }
}
