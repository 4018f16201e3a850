#!/usr/bin/env python3
"""The peer's LoRA training throughput: Hugging Face transformers + PEFT on the checkpoint directory fedtune's `bench`
trains (write it with `fedtune-trainer bench --random NAME --write-random DIR`), measured as fedtune's Throughput
measures itself, and printed as one JSON line with the same keys.

The same run as fedtune's: LoRA r (default 8) with alpha 2r and no dropout on every projection fedtune targets for the
family (q/k/v/o/gate/up/down; Phi-3's fused qkv_proj/gate_up_proj), base frozen, AdamW (lr 1e-4, no weight decay,
betas 0.9/0.999, eps 1e-8) with the gradient norm clipped at 1, on the same random token ids (java.util.Random(0),
shuffled as LocalTraining shuffles them), two untimed warm-up steps, then --steps timed ones. Model FLOPs per token
by Throughput.trainingFlopsPerToken's formula; the matmul ceiling is a [batch*seq, hidden] x [hidden, intermediate]
matmul timed for 2 s in this process, on the same device, dtype and threads. Peak RSS is VmHWM.

Usage: peer_bench.py --base DIR [--batch-size 4] [--seq-len 128] [--steps 5] [--rank 8] [--threads 1]
                     [--device auto|cpu|cuda] [--precision auto|fp32|bf16]
"""
import argparse
import json
import os
import sys
import time

import torch


class JavaRandom:
    """java.util.Random: the 48-bit LCG and its nextInt(bound), so the ids match fedtune's Throughput."""
    MULTIPLIER = 0x5DEECE66D
    MASK = (1 << 48) - 1

    def __init__(self, seed):
        self.seed = (seed ^ self.MULTIPLIER) & self.MASK

    def next_bits(self, bits):
        self.seed = (self.seed * self.MULTIPLIER + 0xB) & self.MASK
        return self.seed >> (48 - bits)

    def next_int(self, bound):
        r = self.next_bits(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < 1 << 31:  # Java's int overflow test
                return r
            u = self.next_bits(31)


def java_shuffle(items, seed):
    """Collections.shuffle(list, new Random(seed)) on a random-access list."""
    rnd = JavaRandom(seed)
    out = list(items)
    for i in range(len(out), 1, -1):
        j = rnd.next_int(i)
        out[i - 1], out[j] = out[j], out[i - 1]
    return out


def token_batches(vocab, batch, seq_len, steps, seed=0):
    """Throughput.measure's sequences (seq_len + 1 ids each), split and ordered as its two LocalTraining runs take them."""
    rnd = JavaRandom(seed)
    data = [[rnd.next_int(vocab) for _ in range(seq_len + 1)] for _ in range(batch * (steps + 2))]
    warm = java_shuffle(data[:2 * batch], seed)
    timed = java_shuffle(data[2 * batch:], seed)
    group = lambda seqs: [torch.tensor(seqs[i:i + batch]) for i in range(0, len(seqs), batch)]
    return group(warm), group(timed)


def lora_targets(config):
    """The projections fedtune targets (ModelConfig.modules): Phi-3 fuses q/k/v and gate/up."""
    if config.model_type == "phi3":
        return ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]
    return ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def training_flops_per_token(config, parameters, seq_len):
    """Throughput.trainingFlopsPerToken: 2 per matmul weight (the tied table counts once, as the head) plus causal
    attention, forward; twice that with a backward pass that needs no base weight gradients."""
    tied = getattr(config, "tie_word_embeddings", False)
    matmul_weights = parameters - (0 if tied else config.vocab_size * config.hidden_size)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    attention = 2.0 * 2 * config.num_hidden_layers * seq_len * config.num_attention_heads * head_dim / 2
    return 2 * (2 * matmul_weights + attention)


def matmul_gflops(m, k, n, device, dtype):
    a = torch.randn(m, k, device=device).to(dtype)
    b = torch.randn(k, n, device=device).to(dtype)
    (a @ b).float()[0, 0].item()
    reps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 2.0 or reps < 3:
        (a @ b).float()[0, 0].item()
        reps += 1
    return 2.0 * m * k * n * reps / (time.perf_counter() - start) / 1e9


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="checkpoint directory (config.json, model.safetensors)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--threads", type=int, default=int(os.environ.get("FEDTUNE_THREADS", "1")))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="auto: bf16 on a GPU, fp32 on the CPU (as fedtune's Placement)")
    args = p.parse_args()

    import peft
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    precision = args.precision if args.precision != "auto" else ("bf16" if device == "cuda" else "fp32")
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    torch.manual_seed(0)

    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=dtype).to(device)
    config = model.config
    parameters = sum(t.numel() for t in model.parameters())
    lora = LoraConfig(r=args.rank, lora_alpha=2.0 * args.rank, lora_dropout=0.0, target_modules=lora_targets(config),
                      bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    model.train()
    trainable = [t for t in model.parameters() if t.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    warm, timed = token_batches(config.vocab_size, args.batch_size, args.seq_len, args.steps)

    def step(batch):
        batch = batch.to(device)
        logits = model(input_ids=batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    for b in warm:  # allocate and pick kernels; not timed, as in fedtune's Throughput
        step(b)
    losses = []
    start = time.perf_counter()
    for b in timed:
        losses.append(step(b))
    seconds = time.perf_counter() - start
    tokens_per_second = len(timed) * args.batch_size * args.seq_len / seconds
    flops = training_flops_per_token(config, parameters, args.seq_len)
    achieved = tokens_per_second * flops / 1e9
    ceiling = matmul_gflops(args.batch_size * args.seq_len, config.hidden_size, config.intermediate_size, device, dtype)
    rss = peak_rss_bytes()
    print(json.dumps({
        "parameters": parameters, "tokensPerSecond": tokens_per_second, "modelFlopsPerToken": flops,
        "achievedGflops": achieved, "matmulCeilingGflops": ceiling, "mfu": achieved / ceiling, "peakRssBytes": rss,
        "firstLoss": losses[0], "lastLoss": losses[-1], "batch": args.batch_size, "seqLen": args.seq_len,
        "peakRssMiB": rss // (1024 * 1024), "model": args.base, "architecture": config.architectures[0],
        "layers": config.num_hidden_layers, "device": device, "dtype": precision, "threads": args.threads,
        "attention": getattr(config, "_attn_implementation", None), "torch": torch.__version__,
        "transformers": transformers.__version__, "peft": peft.__version__,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
