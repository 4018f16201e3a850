package io.fedtune.trainer.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns records into token sequences of at most maxLength tokens. Plain text is packed paragraph by
 * paragraph so chunks break at blank lines; a paragraph longer than a chunk is cut at token
 * boundaries. Prompt/completion and chat records stay one sequence each, cut at maxLength.
 */
public final class Chunker {
    private final TextTokenizer tokenizer;
    private final int maxLength;
    private final Integer bos;
    private final Integer eos;

    public Chunker(TextTokenizer tokenizer, int maxLength, Integer bos, Integer eos) {
        if (maxLength < 4) {
            throw new IllegalArgumentException("max sequence length must be >= 4");
        }
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.bos = bos;
        this.eos = eos;
    }

    public List<TokenSequence> sequences(List<List<Segment>> records) {
        List<TokenSequence> out = new ArrayList<>();
        for (List<Segment> record : records) {
            if (record.size() == 1 && record.get(0).loss()) {
                packText(record.get(0).text(), out);
            } else {
                structured(record, out);
            }
        }
        out.removeIf(s -> s.lossTokens() == 0);
        return out;
    }

    int maxLength() {
        return maxLength;
    }

    /** The leading BOS that every sequence starts with, or 0 without one. */
    int prefixLength() {
        return bos == null ? 0 : 1;
    }

    int[] encode(String text) {
        return tokenizer.encode(text);
    }

    private void packText(String text, List<TokenSequence> out) {
        String[] paragraphs = text.split("\n\\s*\n");
        Builder chunk = new Builder();
        for (int p = 0; p < paragraphs.length; p++) {
            String para = p < paragraphs.length - 1 ? paragraphs[p] + "\n\n" : paragraphs[p];
            int[] ids = tokenizer.encode(para);
            if (chunk.size() + ids.length > maxLength && chunk.size() > chunk.start) {
                out.add(chunk.build());
                chunk = new Builder();
            }
            int offset = 0;
            while (ids.length - offset > maxLength - chunk.size()) {
                int take = maxLength - chunk.size();
                chunk.add(Arrays.copyOfRange(ids, offset, offset + take), true);
                offset += take;
                out.add(chunk.build());
                chunk = new Builder();
            }
            chunk.add(Arrays.copyOfRange(ids, offset, ids.length), true);
        }
        if (eos != null && chunk.size() < maxLength) {
            chunk.add(new int[]{eos}, true);
        }
        if (chunk.size() > chunk.start) {
            out.add(chunk.build());
        }
    }

    private void structured(List<Segment> record, List<TokenSequence> out) {
        boolean framed = record.get(0).framed();
        Builder b = new Builder(!framed);
        for (Segment s : record) {
            b.add(tokenizer.encode(s.text()), s.loss());
        }
        if (eos != null && !framed) {
            b.add(new int[]{eos}, record.get(record.size() - 1).loss());
        }
        out.add(b.truncated(maxLength));
    }

    private final class Builder {
        private int[] tokens = new int[16];
        private boolean[] loss = new boolean[16];
        private int size;
        final int start;

        Builder() {
            this(true);
        }

        Builder(boolean withBos) {
            if (withBos && bos != null) {
                add(new int[]{bos}, false);
            }
            start = size;
        }

        int size() {
            return size;
        }

        void add(int[] ids, boolean l) {
            if (size + ids.length > tokens.length) {
                int cap = Math.max(tokens.length * 2, size + ids.length);
                tokens = Arrays.copyOf(tokens, cap);
                loss = Arrays.copyOf(loss, cap);
            }
            System.arraycopy(ids, 0, tokens, size, ids.length);
            Arrays.fill(loss, size, size + ids.length, l);
            size += ids.length;
        }

        TokenSequence build() {
            return truncated(size);
        }

        TokenSequence truncated(int max) {
            int n = Math.min(size, max);
            return new TokenSequence(Arrays.copyOf(tokens, n), Arrays.copyOf(loss, n));
        }
    }
}
