package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import io.fedtune.api.v1alpha1.BaseQuantization;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.safetensors.FloatTensor;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A Llama-family decoder (Llama, Mistral, Qwen2, Qwen3, Phi-3, SmolLM, Gemma 2 and 3) as a function of frozen base
 * arrays: RMSNorm, rotary position embeddings (optionally scaled, {@link RopeScaling}, optionally on the first
 * dimensions of each head only), grouped-query causal attention (optionally within a sliding window on some layers),
 * SwiGLU MLP, optional tied embeddings, attention biases, Qwen3's per-head query/key RMSNorm and Phi-3's fused
 * qkv_proj and gate_up_proj; Gemma's changes to these are listed in {@link Gemma}. The base arrays never require
 * gradients; only the LoRA arrays passed to {@link #logits} can.
 */
public final class LlamaModel implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final DataType computeType;
    private final Map<String, NDArray> weights = new HashMap<>();
    private final Map<String, NDArray[]> ropeCache = new HashMap<>();
    private final Map<String, NDArray> maskCache = new HashMap<>();

    private final BaseQuantization quantization;
    private final Map<String, QuantizedWeight> quantized = new HashMap<>();

    private LlamaModel(ModelConfig config, NDManager manager, DataType computeType, BaseQuantization quantization) {
        this.config = config;
        this.manager = manager;
        this.computeType = computeType;
        this.quantization = quantization;
    }

    /** Loads the base weights onto the device, tensor by tensor, in the compute type (float32 or bfloat16). */
    public static LlamaModel load(Checkpoint checkpoint, Device device, DataType computeType) throws CheckpointInvalidException {
        return load(checkpoint, device, computeType, BaseQuantization.None);
    }

    /**
     * With a quantization other than None the decoder layers' projection weights are held quantized
     * ({@link QuantizedWeight}); everything else is in the compute type. Large tensors are read in row blocks, so
     * the heap never holds a whole embedding table as floats.
     */
    public static LlamaModel load(Checkpoint checkpoint, Device device, DataType computeType, BaseQuantization quantization)
            throws CheckpointInvalidException {
        ModelConfig config = checkpoint.config();
        Map<String, long[]> shapes = Checkpoint.expectedShapes(config);
        Set<String> projections = projectionWeights(config);
        checkQuantization(config, quantization);
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        LlamaModel model = new LlamaModel(config, manager, computeType, quantization);
        try {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                String name = e.getKey();
                long[] shape = e.getValue();
                if (quantization != BaseQuantization.None && projections.contains(name)) {
                    model.quantized.put(name, readQuantized(checkpoint, name, shape, quantization, manager, computeType));
                } else {
                    model.weights.put(name, readDense(checkpoint, name, shape, manager, computeType));
                }
            }
        } catch (CheckpointInvalidException | RuntimeException e) {
            manager.close();
            throw e;
        }
        return model;
    }

    /**
     * Refuses a quantization the architecture cannot take (Int4 where a projection's input size is not a multiple of
     * its group), naming the field and the fix, before any weight is read.
     */
    public static void checkQuantization(ModelConfig config, BaseQuantization quantization) {
        if (quantization != BaseQuantization.Int4) {
            return;
        }
        Map<String, long[]> shapes = Checkpoint.expectedShapes(config);
        for (String name : new java.util.TreeSet<>(projectionWeights(config))) {
            String problem = QuantizedWeight.int4Problem(name, shapes.get(name)[1]);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }
    }

    /** Elements read at once from a large tensor. */
    private static final int BLOCK_ELEMENTS = 1 << 22;

    private static int blockRows(long[] shape) {
        return (int) Math.max(1, BLOCK_ELEMENTS / shape[shape.length - 1]);
    }

    private static NDArray readDense(Checkpoint checkpoint, String name, long[] shape, NDManager manager, DataType type)
            throws CheckpointInvalidException {
        long elements = new Shape(shape).size();
        if (shape.length != 2 || elements <= BLOCK_ELEMENTS) {
            FloatTensor t = checkpoint.read(name);
            NDArray a = manager.create(t.values(), new Shape(t.shape()));
            if (type == DataType.FLOAT32) {
                return a;
            }
            NDArray cast = a.toType(type, false);
            a.close();
            return cast;
        }
        NDArray whole = manager.zeros(new Shape(shape), type);
        int step = blockRows(shape);
        for (long row = 0; row < shape[0]; row += step) {
            int rows = (int) Math.min(step, shape[0] - row);
            try (NDManager block = manager.newSubManager()) {
                NDArray b = block.create(checkpoint.readRows(name, shape[1], row, rows), new Shape(rows, shape[1]));
                whole.set(new NDIndex(row + ":" + (row + rows)), type == DataType.FLOAT32 ? b : b.toType(type, false));
            }
        }
        return whole;
    }

    private static QuantizedWeight readQuantized(Checkpoint checkpoint, String name, long[] shape, BaseQuantization kind,
                                                 NDManager manager, DataType type) throws CheckpointInvalidException {
        QuantizedWeight.Builder b = QuantizedWeight.builder(name, kind, Math.toIntExact(shape[0]), Math.toIntExact(shape[1]));
        int step = blockRows(shape);
        for (long row = 0; row < shape[0]; row += step) {
            int rows = (int) Math.min(step, shape[0] - row);
            b.rows((int) row, checkpoint.readRows(name, shape[1], row, rows), rows);
        }
        return b.build(manager, type);
    }

    /** The decoder layers' projection weights ([out, in] matrices LoRA can target), which quantization applies to. */
    static Set<String> projectionWeights(ModelConfig c) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < c.layers(); i++) {
            for (LoraTarget t : c.modules()) {
                names.add("model.layers." + i + "." + t.block() + "." + t.moduleName() + ".weight");
            }
        }
        return names;
    }

    /**
     * A model over arrays the caller supplies and may swap between steps with {@link #useWeights}
     * (pretraining trains every weight). Closing it closes the manager.
     */
    public static LlamaModel over(ModelConfig config, NDManager manager, DataType computeType) {
        return new LlamaModel(config, manager, computeType, BaseQuantization.None);
    }

    /** Replaces the base arrays, e.g. with fresh ones that require gradients for a pretraining step. */
    public void useWeights(Map<String, NDArray> arrays) {
        weights.clear();
        weights.putAll(arrays);
    }

    public ModelConfig config() {
        return config;
    }

    public NDManager manager() {
        return manager;
    }

    public DataType computeType() {
        return computeType;
    }

    /** How the projection weights are held: None (in the compute type), Int8 or Int4. */
    public BaseQuantization quantization() {
        return quantization;
    }

    /** Bytes the base weights hold on the device, quantized ones as stored. */
    public long baseBytes() {
        long n = 0;
        for (NDArray a : weights.values()) {
            n += a.size() * a.getDataType().getNumOfBytes();
        }
        for (QuantizedWeight q : quantized.values()) {
            n += q.bytes();
        }
        return n;
    }

    /** The quantized projection weights by Hugging Face name (empty under None); for checks that they stay frozen. */
    public Map<String, QuantizedWeight> quantizedWeights() {
        return Map.copyOf(quantized);
    }

    /** The base arrays by Hugging Face name; for checks that they stay frozen. Quantized weights are not among them. */
    public Map<String, NDArray> baseWeights() {
        return Map.copyOf(weights);
    }

    /**
     * Next-token logits, float32, [batch, time, vocab], for token ids [batch, time] (int64).
     * Padding must be on the right: causal attention keeps it from touching real tokens.
     */
    public NDArray logits(NDArray ids, LoraArrays lora) {
        return logits(ids, lora, null);
    }

    /**
     * With a cache, ids are the tokens after the cached ones: they sit at positions cache.length() onwards, attend to
     * the cached keys and values as well as to each other, and are appended to the cache.
     */
    public NDArray logits(NDArray ids, LoraArrays lora, KvCache cache) {
        int time = (int) ids.getShape().get(1);
        int past = cache == null ? 0 : cache.length();
        NDManager owner = ids.getManager();
        NDArray h = embed(ids);
        Map<Boolean, NDArray[]> ropes = new HashMap<>();
        Map<Integer, NDArray> masks = new HashMap<>();
        for (int i = 0; i < config.layers(); i++) {
            // each layer's temporaries, its input among them, are freed as soon as it returns, not when the caller's
            // manager closes; autograd holds its own references to what backward needs
            try (NDManager scope = owner.newSubManager()) {
                h.attach(scope);
                h = layer(i, h, lora, cache, past, ropes, masks, owner);
                h.attach(owner);
            }
        }
        if (cache != null) {
            cache.advance(time);
        }
        try (NDArray last = h) {
            return head(last);
        }
    }

    /** The embedded tokens [batch, time, hidden] in the compute type, the first decoder layer's input. */
    public NDArray embed(NDArray ids) {
        NDArray h = Embedding.embedding(ids, w("model.embed_tokens.weight"), SparseFormat.DENSE).singletonOrThrow();
        return config.gemma() != null ? mulInComputeType(h, Math.sqrt(config.hiddenSize())) : h;
    }

    /**
     * Decoder layer i on hidden states [batch, time, hidden] at positions 0 .. time - 1, without a cache: what
     * {@link #logits} runs per layer, for training that recomputes layers one at a time.
     */
    public NDArray layer(int i, NDArray h, LoraArrays lora) {
        return layer(i, h, lora, null, 0, new HashMap<>(), new HashMap<>(), h.getManager());
    }

    /** The final norm, LM head (and Gemma's soft-cap): float32 logits [batch, time, vocab]. */
    public NDArray head(NDArray h) {
        NDManager owner = h.getManager();
        try (NDManager scope = owner.newSubManager()) {
            h.tempAttach(scope);
            NDArray normed = rmsNorm(h, w("model.norm.weight"));
            NDArray table = config.tieWordEmbeddings() ? w("model.embed_tokens.weight") : w("lm_head.weight");
            NDArray logits = Linear.linear(normed, table).singletonOrThrow();
            Gemma gemma = config.gemma();
            if (gemma != null && gemma.finalLogitSoftcapping() != null) {
                logits = softcap(logits, gemma.finalLogitSoftcapping());
            }
            NDArray result = logits.getDataType() == DataType.FLOAT32 ? logits : logits.toType(DataType.FLOAT32, false);
            result.attach(owner);
            return result;
        }
    }

    private NDArray layer(int i, NDArray h, LoraArrays lora, KvCache cache, int past, Map<Boolean, NDArray[]> ropes,
                          Map<Integer, NDArray> masks, NDManager owner) {
        int time = (int) h.getShape().get(1);
        Gemma gemma = config.gemma();
        String p = "model.layers." + i + ".";
        Integer window = config.window(i);
        boolean local = gemma != null && gemma.ropeLocalBaseFreq() != null && gemma.sliding(i);
        NDArray[] rope = ropes.computeIfAbsent(local, l -> past == 0 ? rope(time, l) : ropeTables(past, time, l, owner));
        NDArray mask = masks.computeIfAbsent(window == null ? 0 : window,
                key -> past == 0 ? causalMask(time, window) : causalMask(past, time, window, owner));
        NDArray x = rmsNorm(h, w(p + "input_layernorm.weight"));
        NDArray attended = attention(i, x, rope, mask, lora, cache);
        // Gemma norms each sublayer's output before the residual add, and the MLP's input with a norm of its own
        h = h.add(gemma == null ? attended : rmsNorm(attended, w(p + "post_attention_layernorm.weight")));
        x = rmsNorm(h, w(p + (gemma == null ? "post_attention_layernorm.weight" : "pre_feedforward_layernorm.weight")));
        NDArray gate;
        NDArray up;
        if (config.fusedProjections()) {
            NDArray gateUp = project(i, LoraTarget.GATE_UP_PROJ, x, lora);
            gate = gateUp.get("..., :" + config.intermediateSize());
            up = gateUp.get("..., " + config.intermediateSize() + ":");
        } else {
            gate = project(i, LoraTarget.GATE_PROJ, x, lora);
            up = project(i, LoraTarget.UP_PROJ, x, lora);
        }
        NDArray act = gemma == null ? gate.mul(Activation.sigmoid(gate)) : geluTanh(gate);
        NDArray mlp = project(i, LoraTarget.DOWN_PROJ, act.mul(up), lora);
        return h.add(gemma == null ? mlp : rmsNorm(mlp, w(p + "post_feedforward_layernorm.weight")));
    }

    /** cap * tanh(x / cap), Gemma's soft-capping. */
    private static NDArray softcap(NDArray x, double cap) {
        return Scalars.mul(Scalars.div(x, cap).tanh(), cap);
    }

    /**
     * gelu with the tanh approximation (PyTorch's gelu approximate="tanh"), computed in float32 as PyTorch's kernel
     * does for half-precision inputs.
     */
    private NDArray geluTanh(NDArray x) {
        NDArray x32 = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray inner = Scalars.mul(x32.add(Scalars.mul(Scalars.pow(x32, 3), 0.044715)), Math.sqrt(2 / Math.PI));
        NDArray y = Scalars.mul(x32, 0.5).mul(Scalars.add(inner.tanh(), 1));
        return computeType == DataType.FLOAT32 ? y : y.toType(computeType, false);
    }

    /** x times a constant first rounded to the compute type, as Gemma's embedding normalizer is. */
    private NDArray mulInComputeType(NDArray x, double value) {
        try (NDArray c = x.getManager().full(new Shape(), (float) value, DataType.FLOAT32).toDevice(x.getDevice(), false);
             NDArray rounded = c.toType(computeType, false)) {
            return x.mul(rounded);
        }
    }

    private NDArray attention(int layer, NDArray x, NDArray[] rope, NDArray mask, LoraArrays lora, KvCache cache) {
        long batch = x.getShape().get(0);
        long time = x.getShape().get(1);
        int hd = config.headDim();
        NDArray q;
        NDArray k;
        NDArray v;
        if (config.fusedProjections()) {
            NDArray qkv = project(layer, LoraTarget.QKV_PROJ, x, lora);
            int qd = config.qDim();
            int kvd = config.kvDim();
            q = qkv.get("..., :" + qd);
            k = qkv.get("..., " + qd + ":" + (qd + kvd));
            v = qkv.get("..., " + (qd + kvd) + ":");
        } else {
            q = project(layer, LoraTarget.Q_PROJ, x, lora);
            k = project(layer, LoraTarget.K_PROJ, x, lora);
            v = project(layer, LoraTarget.V_PROJ, x, lora);
        }
        q = q.reshape(batch, time, config.heads(), hd);
        k = k.reshape(batch, time, config.kvHeads(), hd);
        if (config.qkNorm()) {
            String p = "model.layers." + layer + ".self_attn.";
            q = rmsNorm(q, w(p + "q_norm.weight"));
            k = rmsNorm(k, w(p + "k_norm.weight"));
        }
        q = q.transpose(0, 2, 1, 3);
        k = k.transpose(0, 2, 1, 3);
        v = v.reshape(batch, time, config.kvHeads(), hd).transpose(0, 2, 1, 3);
        q = applyRope(q, rope);
        k = applyRope(k, rope);
        if (cache != null) {
            NDArray[] kv = cache.append(layer, k, v);
            k = kv[0];
            v = kv[1];
        }
        long keys = k.getShape().get(2);
        int groups = config.heads() / config.kvHeads();
        if (groups > 1) {
            k = k.expandDims(2).broadcast(batch, config.kvHeads(), groups, keys, hd).reshape(batch, config.heads(), keys, hd);
            v = v.expandDims(2).broadcast(batch, config.kvHeads(), groups, keys, hd).reshape(batch, config.heads(), keys, hd);
        }
        Gemma gemma = config.gemma();
        double scale = gemma == null ? 1.0 / Math.sqrt(hd) : 1.0 / Math.sqrt(gemma.queryPreAttnScalar());
        NDArray scores = Scalars.mul(q.matMul(k.transpose(0, 1, 3, 2)), scale);
        if (gemma != null && gemma.attnLogitSoftcapping() != null) {
            scores = softcap(scores, gemma.attnLogitSoftcapping());
        }
        scores = mask == null ? scores : scores.add(mask);
        NDArray out = scores.softmax(-1).matMul(v);
        out = out.transpose(0, 2, 1, 3).reshape(batch, time, config.qDim());
        return project(layer, LoraTarget.O_PROJ, out, lora);
    }

    /** base(x) + scaling * B(A(dropout(x))). */
    private NDArray project(int layer, LoraTarget target, NDArray x, LoraArrays lora) {
        String p = "model.layers." + layer + "." + target.block() + "." + target.moduleName() + ".";
        boolean biased = target == LoraTarget.Q_PROJ || target == LoraTarget.K_PROJ || target == LoraTarget.V_PROJ;
        NDArray bias = biased && config.attentionBias() ? w(p + "bias") : null;
        QuantizedWeight q = quantized.get(p + "weight");
        NDArray y;
        if (q == null) {
            y = Linear.linear(x, w(p + "weight"), bias).singletonOrThrow();
        } else {
            // autograd keeps its own reference where it records: the Java handle can go at once
            try (NDArray weight = q.dequantize(x.getManager())) {
                y = Linear.linear(x, weight, bias).singletonOrThrow();
            }
        }
        if (lora == null || !lora.targets(target)) {
            return y;
        }
        NDArray in = lora.config().loraDropout() > 0 && lora.training()
                ? Dropout.dropout(x, (float) lora.config().loraDropout(), true).singletonOrThrow() : x;
        NDArray a = lora.a(layer, target);
        NDArray b = lora.b(layer, target);
        if (a.getDataType() != computeType) {
            a = a.toType(computeType, false);
            b = b.toType(computeType, false);
        }
        NDArray delta = Linear.linear(Linear.linear(in, a).singletonOrThrow(), b).singletonOrThrow();
        return y.add(Scalars.mul(delta, lora.config().scaling()));
    }

    /** Llama's RMSNorm casts before scaling by weight; Gemma's scales by (1 + weight) in float32, then casts. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray x32 = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray norm = x32.mul(Scalars.pow(Scalars.add(x32.square().mean(new int[]{-1}, true), config.rmsNormEps()).sqrt(), -1));
        if (config.gemma() != null) {
            // 1 + weight in x's manager, freed with the step's arrays rather than kept in the model's
            NDManager step = x32.getManager();
            NDArray w32 = weight;
            if (weight.getDataType() != DataType.FLOAT32) {
                w32 = weight.toType(DataType.FLOAT32, false);
                w32.attach(step);
            }
            try (NDArray one = step.full(new Shape(), 1f, DataType.FLOAT32).toDevice(x.getDevice(), false)) {
                norm = norm.mul(one.add(w32));
            }
            return computeType == DataType.FLOAT32 ? norm : norm.toType(computeType, false);
        }
        return (computeType == DataType.FLOAT32 ? norm : norm.toType(computeType, false)).mul(weight);
    }

    /**
     * Rotary embeddings in the rotate-half convention Hugging Face checkpoints are trained with, over the first
     * rotaryDim dimensions of each head (all of them but for Phi-3's partial_rotary_factor); the rest pass unchanged.
     */
    private NDArray applyRope(NDArray x, NDArray[] rope) {
        int rd = config.rotaryDim();
        NDArray rot = rd == config.headDim() ? x : x.get("..., :" + rd);
        int half = rd / 2;
        NDArray x1 = rot.get("..., :" + half);
        NDArray x2 = rot.get("..., " + half + ":");
        NDArray rotated = x2.neg().concat(x1, -1);
        NDArray out = rot.mul(rope[0]).add(rotated.mul(rope[1]));
        return rd == config.headDim() ? out : out.concat(x.get("..., " + rd + ":"), -1);
    }

    private NDArray[] rope(int time, boolean local) {
        return ropeCache.computeIfAbsent(time + (local ? "/local" : ""), t -> ropeTables(0, time, local, manager));
    }

    /**
     * cos and sin [time, rotaryDim] for positions offset .. offset + time - 1, times the scaling's attention factor;
     * dynamic scaling takes its length from offset + time. Local: Gemma 3's sliding layers, plain RoPE of their own base.
     */
    private NDArray[] ropeTables(int offset, int time, boolean local, NDManager owner) {
        int d = config.rotaryDim();
        RopeScaling scaling = local ? null : config.ropeScaling();
        double theta = local ? config.gemma().ropeLocalBaseFreq() : config.ropeTheta();
        double[] invFreq = RopeScaling.inverseFrequencies(scaling, theta, d, config.maxPositionEmbeddings(), offset + time);
        double factor = RopeScaling.attentionFactor(scaling);
        float[] cos = new float[time * d];
        float[] sin = new float[time * d];
        for (int t = 0; t < time; t++) {
            for (int i = 0; i < d / 2; i++) {
                double angle = (offset + t) * invFreq[i];
                cos[t * d + i] = cos[t * d + i + d / 2] = (float) (Math.cos(angle) * factor);
                sin[t * d + i] = sin[t * d + i + d / 2] = (float) (Math.sin(angle) * factor);
            }
        }
        return new NDArray[]{
                owner.create(cos, new Shape(time, d)).toType(computeType, false),
                owner.create(sin, new Shape(time, d)).toType(computeType, false)};
    }

    /**
     * The compute type's lowest finite value above the diagonal, as Hugging Face masks (softmax gives exactly 0 there
     * either way). The sporadic all-NaN gradients once blamed on -inf here came from freed scalar operands (Scalars).
     */
    private NDArray causalMask(int time, Integer window) {
        return maskCache.computeIfAbsent(time + "/" + window, key -> causalMask(0, time, window, manager));
    }

    /**
     * [time, past + time]: query i (at position past + i) sees keys 0 .. past + i, or with a window only the last
     * window of them, max(0, past + i - window + 1) .. past + i, as Hugging Face's sliding-window mask does. Null where
     * nothing is masked (one new token within the window).
     */
    private NDArray causalMask(int past, int time, Integer window, NDManager owner) {
        int keys = past + time;
        if (time == 1 && (window == null || keys <= window)) {
            return null;
        }
        float lowest = computeType == DataType.FLOAT16 ? -65504f : -Float.MAX_VALUE;
        float[] m = new float[time * keys];
        for (int i = 0; i < time; i++) {
            int position = past + i;
            for (int j = 0; j < keys; j++) {
                if (j > position || (window != null && position - j >= window)) {
                    m[i * keys + j] = lowest;
                }
            }
        }
        return owner.create(m, new Shape(time, keys)).toType(computeType, false);
    }

    private NDArray w(String name) {
        return weights.get(name);
    }

    @Override
    public void close() {
        quantized.values().forEach(QuantizedWeight::close);
        manager.close();
    }
}
