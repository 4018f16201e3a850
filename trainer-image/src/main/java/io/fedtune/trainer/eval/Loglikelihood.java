package io.fedtune.trainer.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Summed log-likelihood of continuations given their contexts (lm-eval-harness's loglikelihood), several requests per
 * forward pass: at most batchSize rows of at most maxSequenceLength tokens each, so memory stays as training's. A request
 * longer than maxSequenceLength loses tokens from the left of its context; the continuation is kept.
 */
final class Loglikelihood {
    /** @param context the tokens before the continuation (the BOS included); at least one */
    record Request(int[] context, int[] continuation) {
        /** context and continuation cut from the left to at most maxLength tokens. */
        int[] window(int maxLength) {
            int[] all = Arrays.copyOf(context, context.length + continuation.length);
            System.arraycopy(continuation, 0, all, context.length, continuation.length);
            return all.length <= maxLength ? all : Arrays.copyOfRange(all, all.length - maxLength, all.length);
        }

        int length(int maxLength) {
            return Math.min(maxLength, context.length + continuation.length);
        }
    }

    /** @param tokens the continuation's tokens scored (fewer than it has only when it alone exceeds the window) */
    record Result(double logLikelihood, int tokens) {
    }

    private final LlamaModel model;
    private final int maxSequenceLength;
    private final int batchSize;

    Loglikelihood(LlamaModel model, int maxSequenceLength, int batchSize) {
        this.model = model;
        this.maxSequenceLength = maxSequenceLength;
        this.batchSize = Math.max(1, batchSize);
    }

    /** One result per request, in the requests' order. */
    List<Result> score(List<Request> requests, LoraArrays lora) {
        Result[] results = new Result[requests.size()];
        // longest first, as lm-eval does: rows of a batch have similar lengths, so little is padding
        Integer[] order = new Integer[requests.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -requests.get(i).length(maxSequenceLength)));
        for (int start = 0; start < order.length; start += batchSize) {
            List<Integer> rows = new ArrayList<>(Arrays.asList(order).subList(start, Math.min(order.length, start + batchSize)));
            scoreBatch(requests, rows, lora, results);
        }
        return Arrays.asList(results);
    }

    private void scoreBatch(List<Request> requests, List<Integer> rows, LoraArrays lora, Result[] results) {
        int batch = rows.size();
        int time = 1;
        int[][] windows = new int[batch][];
        int[] scored = new int[batch];
        for (int b = 0; b < batch; b++) {
            Request r = requests.get(rows.get(b));
            windows[b] = r.window(maxSequenceLength);
            scored[b] = Math.min(r.continuation().length, windows[b].length - 1);
            time = Math.max(time, windows[b].length - 1);
        }
        long[] inputs = new long[batch * time];
        long[] targets = new long[batch * time];
        float[] mask = new float[batch * time];
        for (int b = 0; b < batch; b++) {
            int[] w = windows[b];
            for (int t = 0; t + 1 < w.length; t++) {
                inputs[b * time + t] = w[t];
                targets[b * time + t] = w[t + 1];
                mask[b * time + t] = t + 1 >= w.length - scored[b] ? 1f : 0f;
            }
        }
        float[] sums;
        try (NDManager step = model.manager().newSubManager()) {
            NDArray logits = model.logits(step.create(inputs, new Shape(batch, time)), lora);
            NDArray picked = logits.logSoftmax(-1).gather(step.create(targets, new Shape(batch, time, 1)), 2)
                    .reshape(batch, time);
            sums = picked.mul(step.create(mask, new Shape(batch, time))).sum(new int[]{1}).toFloatArray();
        }
        for (int b = 0; b < batch; b++) {
            results[rows.get(b)] = new Result(sums[b], scored[b]);
        }
    }
}
