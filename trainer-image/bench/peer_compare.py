#!/usr/bin/env python3
"""fedtune against the peer users would pick instead (Hugging Face transformers + PEFT), side by side: per family, one
random checkpoint written by `fedtune-trainer bench --random NAME [--layers N] --write-random DIR`, then fedtune's
`bench --base DIR` and bench/peer_bench.py on it, one process each, one after the other, on the same token ids; a table
of tokens/s, peak RSS and MFU (each against its own process's matmul ceiling), with the fedtune/peer ratios and
the load average (the higher of before and after) each ran under: ratios mean little where the two differ much.

Usage: python3 trainer-image/bench/peer_compare.py [--families 100m,llama-3.2-1b,...] [--jar JAR] [--python PY]
       [--java-opts "-Xmx..."] [--dir /tmp/fedtune-peer] [--json results.jsonl]
`--python` must import torch, transformers and peft (default: ~/.cache/fedtune/peft-venv/bin/python, the venv the
PEFT interop tier builds, else this python).
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# name: (fedtune's shape, layers kept (None: all), vocabulary (None: the shape's), what the row says about it)
FAMILIES = {
    "100m": ("100m", None, None, "Llama, 12 layers, width 768, vocab 32k (the ~100M config)"),
    "llama-3.2-1b": ("llama-3.2-1b", 4, None, "Llama 3.2 1B shape, 4 of 16 layers"),
    "qwen3-0.6b": ("qwen3-0.6b", 7, None, "Qwen3 0.6B shape, 7 of 28 layers"),
    "gemma-3-1b": ("gemma-3-1b", 6, None, "Gemma 3 1B text shape, 6 of 26 layers (5 sliding, 1 global)"),
    "phi-4-mini": ("phi-4-mini", 2, None, "Phi-4-mini shape, 2 of 32 layers"),
    "phi-4-mini-131k": ("phi-4-mini", 2, 131072, "Phi-4-mini shape, 2 of 32 layers, vocab 131,072 of 200,064"),
}
VENV_PYTHON = os.path.expanduser("~/.cache/fedtune/peft-venv/bin/python")


def run_json(command, env=None):
    """The command's last stdout line as JSON, or {"error": its last exception or stderr line} when it fails."""
    print("+ " + " ".join(shlex.quote(c) for c in command), file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    load = max(load, os.getloadavg()[0])
    if done.returncode != 0:
        lines = [l.strip() for l in done.stderr.splitlines() if l.strip()]
        cause = [l for l in lines if "Exception" in l or "Error" in l or l.startswith("error")]
        return {"error": (cause or lines or [f"exit {done.returncode}"])[0][:300], "load": load}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]), load=load)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--jar", default=os.path.join(HERE, "..", "target", "fedtune-trainer.jar"))
    p.add_argument("--python", default=VENV_PYTHON if os.path.exists(VENV_PYTHON) else sys.executable)
    p.add_argument("--java-opts", default="-XX:MaxRAMPercentage=75 -XX:G1PeriodicGCInterval=1000 -XX:-UsePerfData",
                   help="default: the trainer image's FEDTUNE_JAVA_OPTS memory and GC options")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--steps", type=int, default=3, help="timed steps per run (after two warm-up steps); 100m takes 5")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dir", default="/tmp/fedtune-peer")
    p.add_argument("--json", help="append each run's JSON line here")
    p.add_argument("--from-json", help="print the table of the runs saved by --json, running nothing")
    args = p.parse_args()
    if args.from_json:
        saved = {}
        with open(args.from_json) as f:
            for line in f:
                r = json.loads(line)
                saved.setdefault(r["family"], {})[r["trainer"]] = r
        table([(FAMILIES[n][3], r["fedtune"], r["peer"]) for n, r in saved.items()], args)
        return 0

    env = dict(os.environ, FEDTUNE_THREADS=str(args.threads))
    rows = []
    for name in args.families.split(","):
        if name not in FAMILIES:
            sys.exit(f"unknown family {name}: one of {', '.join(FAMILIES)}")
        shape, layers, vocab, label = FAMILIES[name]
        steps = 5 if name == "100m" else args.steps
        ckpt = os.path.join(args.dir, name)
        shutil.rmtree(ckpt, ignore_errors=True)
        write = ["java", "-jar", args.jar, "bench", "--random", shape, "--write-random", ckpt]
        write += [] if layers is None else ["--layers", str(layers)]
        written = run_json(write + ([] if vocab is None else ["--vocab", str(vocab)]), env)
        if "error" in written:
            sys.exit(f"{name}: cannot write the checkpoint: {written['error']}")
        shape_args = ["--batch-size", str(args.batch_size), "--seq-len", str(args.seq_len), "--steps", str(steps)]
        fedtune = run_json(["java", *shlex.split(args.java_opts), "-jar", args.jar, "bench", "--base", ckpt, *shape_args], env)
        peer = run_json([args.python, os.path.join(HERE, "peer_bench.py"), "--base", ckpt, *shape_args,
                         "--threads", str(args.threads)], env)
        shutil.rmtree(ckpt, ignore_errors=True)
        rows.append((label, fedtune, peer))
        if args.json:
            with open(args.json, "a") as f:
                for who, r in (("fedtune", fedtune), ("peer", peer)):
                    f.write(json.dumps(dict(r, family=name, trainer=who)) + "\n")
        print(f"{name}: fedtune {fedtune}\n{name}: peer {peer}", file=sys.stderr, flush=True)

    table(rows, args)
    return 0


def table(rows, args):
    first = next((q for _, _, q in rows if "error" not in q), {})
    print(f"\nCPU, {first.get('dtype', 'fp32')}, {args.threads} thread(s), batch {args.batch_size} x {args.seq_len}, "
          f"LoRA r=8 on every projection; peer: torch {first.get('torch')}, transformers {first.get('transformers')}, "
          f"peft {first.get('peft')}\n")
    print("| model | params | tokens/s fedtune | tokens/s peer | ratio | peak RSS fedtune | peak RSS peer | ratio "
          "| MFU fedtune | MFU peer | first loss fedtune / peer | load average fedtune / peer |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, f, q in rows:
        failed = [f"{who} failed: {r['error']}" for who, r in (("fedtune", f), ("peer", q)) if "error" in r]
        if failed:
            ok = q if "error" in f else f
            figures = (f"{ok['tokensPerSecond']:.1f} tokens/s, {ok['peakRssMiB']:,} MiB" if "error" not in ok else "")
            print(f"| {label} | {written_params(f, q)} | {'; '.join(failed)} {figures} ||||||||||")
            continue
        print(f"| {label} | {f['parameters'] / 1e6:.1f}M | {f['tokensPerSecond']:.1f} | {q['tokensPerSecond']:.1f} "
              f"| {f['tokensPerSecond'] / q['tokensPerSecond']:.2f}x | {f['peakRssMiB']:,} MiB | {q['peakRssMiB']:,} MiB "
              f"| {f['peakRssMiB'] / q['peakRssMiB']:.2f}x | {f['mfu']:.2f} of {f['matmulCeilingGflops']:.0f} "
              f"| {q['mfu']:.2f} of {q['matmulCeilingGflops']:.0f} | {f['firstLoss']:.4f} / {q['firstLoss']:.4f} "
              f"| {f.get('load', float('nan')):.1f} / {q.get('load', float('nan')):.1f} |")


def written_params(f, q):
    r = q if "parameters" in q else f
    return f"{r['parameters'] / 1e6:.1f}M" if "parameters" in r else "?"


if __name__ == "__main__":
    sys.exit(main())
