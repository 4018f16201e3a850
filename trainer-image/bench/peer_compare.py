#!/usr/bin/env python3
"""fedtune against the peer users would pick instead (Hugging Face transformers + PEFT), side by side: per family, one
random checkpoint written by `fedtune-trainer bench --random NAME [--layers N] --write-random DIR`, then, one process
each, one after the other, on the same token ids: fedtune's `bench --base DIR` as the trainer image runs it (its JVM
options and its preloaded tcmalloc), bench/peer_bench.py as the peer's users run it (the system malloc), and the peer
again with fedtune's tcmalloc, so the allocator's share of the difference shows. With --repeat N the three take turns
N times and each figure is the median (tokens/s with its range). A table of tokens/s, peak RSS and MFU (each against
its own process's matmul ceiling), with the fedtune/peer ratios and the load average (the higher of before and after)
each ran under: ratios mean little where the loads differ much.

Usage: python3 trainer-image/bench/peer_compare.py [--families 100m,llama-3.2-1b,...] [--repeat N] [--jar JAR]
       [--python PY] [--java-opts "-Xmx..."] [--tcmalloc LIB] [--dir /tmp/fedtune-peer] [--json results.jsonl]
`--python` must import torch, transformers and peft (default: ~/.cache/fedtune/peft-venv/bin/python, the venv the
PEFT interop tier builds, else this python). `--tcmalloc ''` runs all three on the system malloc.
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
# what the trainer image preloads (trainer-image/Dockerfile) and local mode looks for (TrainerJarCommand)
TCMALLOC = next((p for p in ("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
                             "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
                             "/usr/lib64/libtcmalloc_minimal.so.4") if os.path.exists(p)), "")
# the trainer image's FEDTUNE_JAVA_OPTS memory and GC options
IMAGE_JAVA_OPTS = "-XX:MaxRAMPercentage=75 -XX:G1PeriodicGCInterval=1000 -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:-UsePerfData"
TRAINERS = ("fedtune", "peer", "peer-tcmalloc")


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
    p.add_argument("--java-opts", default=IMAGE_JAVA_OPTS, help="default: the trainer image's memory and GC options")
    p.add_argument("--tcmalloc", default=TCMALLOC,
                   help="the tcmalloc fedtune (and peer-tcmalloc) preload, as the trainer image does (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=1, help="rounds of the three runs per family; figures are medians")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--steps", type=int, default=3, help="timed steps per run (after two warm-up steps); 100m takes 5")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dir", default="/tmp/fedtune-peer")
    p.add_argument("--json", help="append each run's JSON line here")
    p.add_argument("--from-json", help="print the table of the runs saved by --json, running nothing")
    args = p.parse_args()
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.from_json:
        saved = {}
        with open(args.from_json) as f:
            for line in f:
                r = json.loads(line)
                saved.setdefault(r["family"], {}).setdefault(r["trainer"], []).append(r)
        for family, runs in saved.items():
            for trainer, rs in runs.items():
                mallocs = {r.get("malloc", "system") for r in rs}
                if len(mallocs) > 1:
                    sys.exit(f"{args.from_json}: {family} {trainer} ran on more than one malloc ({', '.join(sorted(mallocs))}); "
                             "keep each session's runs in a file of its own")
        table([(FAMILIES[n][3], runs) for n, runs in saved.items()], args)
        return 0

    env = dict(os.environ, FEDTUNE_THREADS=str(args.threads))
    env.pop("LD_PRELOAD", None)
    preloaded = dict(env, LD_PRELOAD=args.tcmalloc, TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD="1099511627776")
    tcmalloc = os.path.basename(args.tcmalloc)
    trainers = TRAINERS if args.tcmalloc else TRAINERS[:2]
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
        fedtune = ["java", *shlex.split(args.java_opts), "-jar", args.jar, "bench", "--base", ckpt, *shape_args]
        peer = [args.python, os.path.join(HERE, "peer_bench.py"), "--base", ckpt, *shape_args, "--threads", str(args.threads)]
        # trainer: (command, environment, its malloc)
        commands = {"fedtune": (fedtune, preloaded, tcmalloc) if args.tcmalloc else (fedtune, env, "system"),
                    "peer": (peer, env, "system"), "peer-tcmalloc": (peer, preloaded, tcmalloc)}
        runs = {t: [] for t in trainers}
        for round_ in range(args.repeat):
            for t in trainers:
                command, command_env, malloc = commands[t]
                r = dict(run_json(command, command_env), malloc=malloc)
                runs[t].append(r)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(dict(r, family=name, trainer=t, round=round_)) + "\n")
                print(f"{name}: {t} {r}", file=sys.stderr, flush=True)
        shutil.rmtree(ckpt, ignore_errors=True)
        rows.append((label, runs))

    table(rows, args)
    return 0


def median(runs, key):
    values = sorted(r[key] for r in runs)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def table(rows, args):
    peers = [r for _, runs in rows for r in runs.get("peer", []) if "error" not in r]
    mallocs = {r.get("malloc", "system") for _, runs in rows for r in runs.get("fedtune", [])}
    first = peers[0] if peers else {}
    print(f"\nCPU, {first.get('dtype', 'fp32')}, {args.threads} thread(s), batch {args.batch_size} x {args.seq_len}, "
          f"LoRA r=8 on every projection; peer: torch {first.get('torch')}, transformers {first.get('transformers')}, "
          f"peft {first.get('peft')}; fedtune's malloc: {', '.join(sorted(mallocs)) or '?'}; medians of each run's figures\n")
    print("| model | params | runs | tokens/s fedtune | tokens/s peer | ratio | tokens/s peer + tcmalloc | ratio "
          "| peak RSS fedtune | peak RSS peer | ratio | peak RSS peer + tcmalloc | ratio | MFU fedtune / peer / peer + tcmalloc "
          "| first loss fedtune / peer | load average |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, runs in rows:
        failed = [f"{who} failed: {r['error']}" for who, rs in runs.items() for r in rs if "error" in r]
        runs = {who: [r for r in rs if "error" not in r] for who, rs in runs.items()}
        f, q = runs.get("fedtune") or [], runs.get("peer") or []
        t = runs.get("peer-tcmalloc") or []
        if not f or not q:
            missing = [who for who, rs in (("fedtune", f), ("peer", q)) if not rs]
            print(f"| {label} | {written_params(runs)} | no complete run of {', '.join(missing)}"
                  f"{'; ' + '; '.join(dict.fromkeys(failed)) if failed else ''} ||||||||||||||")
            continue
        if failed:
            label += " (also: " + "; ".join(dict.fromkeys(failed)) + ")"

        def speed(rs):
            lo, hi = min(r["tokensPerSecond"] for r in rs), max(r["tokensPerSecond"] for r in rs)
            return f"{median(rs, 'tokensPerSecond'):.1f}" + (f" ({lo:.1f}-{hi:.1f})" if len(rs) > 1 else "")

        def ratio(key, other):
            return f"{median(f, key) / median(other, key):.2f}x" if other else "-"

        mfu = " / ".join(f"{median(rs, 'mfu'):.2f}" for rs in (f, q, t) if rs)
        loads = [r.get("load", float("nan")) for rs in (f, q, t) for r in rs]
        print(f"| {label} | {f[0]['parameters'] / 1e6:.1f}M | {len(f)} | {speed(f)} | {speed(q)} | {ratio('tokensPerSecond', q)} "
              f"| {speed(t) if t else '-'} | {ratio('tokensPerSecond', t)} "
              f"| {median(f, 'peakRssMiB'):,.0f} MiB | {median(q, 'peakRssMiB'):,.0f} MiB | {ratio('peakRssMiB', q)} "
              f"| {(format(median(t, 'peakRssMiB'), ',.0f') + ' MiB') if t else '-'} | {ratio('peakRssMiB', t)} "
              f"| {mfu} | {f[0]['firstLoss']:.4f} / {q[0]['firstLoss']:.4f} | {min(loads):.1f} to {max(loads):.1f} |")


def written_params(runs):
    r = next((r for rs in runs.values() for r in rs if "parameters" in r), {})
    return f"{r['parameters'] / 1e6:.1f}M" if r else "?"


if __name__ == "__main__":
    sys.exit(main())
