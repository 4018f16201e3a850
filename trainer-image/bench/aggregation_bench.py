#!/usr/bin/env python3
"""Aggregation benchmark: 16 LoRA adapters (rank 16, 32 layers x q/k/v/o, width 1024 by default) as local files,
aggregated by `fedtune-trainer aggregate` (FedAvg weighted by samples; then ExactProduct) in a fresh JVM per
measurement, and the same weighted average in numpy in a fresh python per measurement, each with its input GB/s
(in-process), whole-process time and peak RSS.

Usage: python3 trainer-image/bench/aggregation_bench.py --classpath CP [--width 1024] [--dir /tmp/fedtune-bench]
"""
import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

PROJ = ["q_proj", "k_proj", "v_proj", "o_proj"]


def tensor_names(layers):
    for layer in range(layers):
        for p in PROJ:
            base = f"base_model.model.model.layers.{layer}.self_attn.{p}"
            yield base + ".lora_A.weight", "A"
            yield base + ".lora_B.weight", "B"


def write_adapter(directory, layers, rank, width, rng):
    """PEFT layout: adapter_config.json, adapter_model.safetensors (fp32, names sorted), manifest.json with SHA-256."""
    os.makedirs(directory, exist_ok=True)
    header = {}
    offset = 0
    names = sorted(tensor_names(layers))
    for name, factor in names:
        shape = [rank, width] if factor == "A" else [width, rank]
        size = rank * width * 4
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    header["__metadata__"] = {"format": "pt"}
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    path = os.path.join(directory, "adapter_model.safetensors")
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        prefix = len(blob).to_bytes(8, "little") + blob
        f.write(prefix)
        sha.update(prefix)
        for _ in names:
            data = (rng.standard_normal(rank * width, dtype=np.float32) * 0.02).tobytes()
            f.write(data)
            sha.update(data)
    config = {"peft_type": "LORA", "r": rank, "lora_alpha": 2.0 * rank, "lora_dropout": 0.0,
              "target_modules": PROJ, "task_type": "CAUSAL_LM", "base_model_name_or_path": "bench",
              "bias": "none", "fan_in_fan_out": False, "inference_mode": True}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(config, f)
    digest = sha.hexdigest()
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump({"files": {"adapter_model.safetensors": digest}}, f)
    return digest


def read_safetensors(path):
    """All tensors of a file as numpy arrays (a minimal safetensors reader: header JSON, then raw little-endian data)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data, dtype=np.float32, count=(e - b) // 4, offset=b).reshape(info["shape"])
    return out


def numpy_fedavg(shards, mode):
    """Weighted FedAvg in numpy. 'all': load every adapter, then average tensor by tensor (how server frameworks hold
    client updates); 'streaming': load one adapter at a time into a running sum; 'verified': streaming, plus the
    SHA-256 of each file checked against its manifest first (the check fedtune always makes)."""
    total = sum(s["samples"] for s in shards)
    start = time.perf_counter()
    if mode == "all":
        adapters = [read_safetensors(os.path.join(s["dir"], "adapter_model.safetensors")) for s in shards]
        weights = [s["samples"] / total for s in shards]
        result = {name: sum(w * a[name] for w, a in zip(weights, adapters)) for name in adapters[0]}
    else:
        result = None
        for s in shards:
            path = os.path.join(s["dir"], "adapter_model.safetensors")
            if mode == "verified":
                with open(path, "rb") as f:
                    if hashlib.sha256(f.read()).hexdigest() != s["sha256"]:
                        raise SystemExit(f"{path}: SHA-256 mismatch")
            a = read_safetensors(path)
            w = np.float32(s["samples"] / total)
            if result is None:
                result = {k: w * v for k, v in a.items()}
            else:
                for k, v in a.items():
                    result[k] += w * v
            del a
    seconds = time.perf_counter() - start
    return seconds, len(result)


def run_numpy_child(args, mode):
    """numpy in a fresh python process, so its peak RSS is its own; processSeconds includes python's start and
    numpy's import, as the JVM's start is included in fedtune's."""
    return timed([sys.executable, __file__, "--numpy-child", mode, "--dir", args.dir])


def timed(cmd):
    """Runs one measurement; adds its whole-process wall time and CPU time (user + system, all threads)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # the JVM may log (class-data sharing warnings) on stdout too; the result is the last JSON line
    result = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    result["processSeconds"] = round(seconds, 3)
    result["processCpuSeconds"] = round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 3)
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--classpath", help="the trainer's classpath (jar or target/classes plus dependencies)")
    p.add_argument("--dir", default="/tmp/fedtune-bench")
    p.add_argument("--shards", type=int, default=16)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--layers", type=int, default=32)
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--jvm", default="-Xmx24m -XX:+UseSerialGC",
                   help="JVM options for each FedAvg measurement (FedAvg reads tensor by tensor: a small heap suffices)")
    p.add_argument("--product-jvm", default="-Xmx96m -XX:+UseSerialGC",
                   help="JVM options for the ExactProduct run (it holds one module of every shard, and QR workspaces)")
    p.add_argument("--no-cds", action="store_true",
                   help="skip the application class-data sharing archive (by default one unmeasured run writes it "
                        "and every measured JVM maps it, as a deployed CLI would)")
    p.add_argument("--skip-product", action="store_true")
    p.add_argument("--repeat", type=int, default=3,
                   help="FedAvg measurements per contender, interleaved; the fastest of each is reported "
                        "(on a shared machine the minimum is the least disturbed)")
    p.add_argument("--numpy-child", choices=["all", "streaming", "verified"], help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.numpy_child:
        shards = json.load(open(os.path.join(args.dir, "shards.json")))
        total_bytes = sum(os.path.getsize(os.path.join(s["dir"], "adapter_model.safetensors")) for s in shards)
        seconds, _ = numpy_fedavg(shards, args.numpy_child)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(json.dumps({"mode": args.numpy_child, "seconds": round(seconds, 3),
                          "gbPerSecond": round(total_bytes / seconds / 1e9, 3), "peakRssMiB": round(peak, 1)}))
        return

    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(args.dir)
    rng = np.random.default_rng(0)
    shards = []
    t = time.perf_counter()
    for i in range(args.shards):
        d = os.path.join(args.dir, "shards", f"shard-{i:02d}")
        sha = write_adapter(d, args.layers, args.rank, args.width, rng)
        shards.append({"shard": f"shard-{i:02d}", "dir": d, "sha256": sha, "samples": 1000 + 137 * i})
    json.dump(shards, open(os.path.join(args.dir, "shards.json"), "w"))
    size = os.path.getsize(os.path.join(shards[0]["dir"], "adapter_model.safetensors"))
    print(f"generated {args.shards} adapters of rank {args.rank}, {args.layers} layers x {len(PROJ)} projections, "
          f"width {args.width}: {size / 1e6:.1f} MB each, {args.shards * size / 1e9:.3f} GB in all "
          f"({time.perf_counter() - t:.1f} s)")

    def task(strategy, name):
        return {
            "run": "bench", "namespace": "bench", "round": 1, "attempt": 1,
            "updates": [{"shard": s["shard"], "adapter": s["dir"], "sha256": s["sha256"], "samples": s["samples"],
                         "weight": 1.0, "rank": args.rank} for s in shards],
            "lora": {"rank": args.rank, "alpha": 2.0 * args.rank,
                     "targetModules": PROJ},
            "aggregation": {"strategy": strategy, "weighting": "Samples"},
            "optimizerState": os.path.join(args.dir, "state"),
            "maxSequenceLength": 128, "seed": 1, "participationRate": 1.0,
            "output": os.path.join(args.dir, name),
        }

    cds = os.path.join(args.dir, "fedtune.jsa")

    def run_java(strategy, name, jvm, extra=()):
        task_file = os.path.join(args.dir, f"task-{name}.json")
        json.dump(task(strategy, name), open(task_file, "w"))
        cmd = ["java"] + jvm.split() + list(extra) + ["-cp", args.classpath,
                                                      "io.fedtune.trainer.aggregate.bench.AggregationBenchmark",
                                                      task_file, os.path.join(args.dir, "work-" + name)]
        return timed(cmd)

    sharing = []
    if not args.no_cds:
        run_java("FedAvg", "fedavg", args.jvm, ["-XX:ArchiveClassesAtExit=" + cds])
        sharing = ["-XX:SharedArchiveFile=" + cds]
    runs = {"fedavg": [], "all": [], "streaming": [], "verified": []}
    for _ in range(args.repeat):
        runs["fedavg"].append(run_java("FedAvg", "fedavg", args.jvm, sharing))
        for mode in ("all", "streaming", "verified"):
            runs[mode].append(run_numpy_child(args, mode))
    fastest = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    results = {"fedavg": fastest["fedavg"]}
    if not args.skip_product:
        results["product"] = run_java("ExactProduct", "product", args.product_jvm, sharing)
    print(f"fastest of {args.repeat} interleaved runs each; load average now {os.getloadavg()[0]:.1f}")

    print(f"JVM: {args.jvm}{' + application CDS archive' if sharing else ''}; "
          f"in-process = the aggregation alone (fedtune: after the JVM started and read the task; numpy: after "
          f"python started and imported numpy); whole process = start to exit, with the CPU time of all its threads")

    def line(label, r):
        print(f"{label:66s} {r['seconds']:5.2f} s in-process ({r['gbPerSecond']:.2f} GB/s input), "
              f"{r['processSeconds']:5.2f} s whole process ({r['processCpuSeconds']:.2f} s CPU), "
              f"peak RSS {r['peakRssMiB']:4.0f} MiB")

    j = results["fedavg"]
    np_all, np_stream, np_verified = fastest["all"], fastest["streaming"], fastest["verified"]
    line("fedtune aggregate FedAvg (SHA-256, header, finite, norms; mean; write)", j)
    line("numpy FedAvg, all adapters loaded then averaged (no checks)", np_all)
    line("numpy FedAvg, one adapter at a time into a running sum (no checks)", np_stream)
    line("numpy FedAvg, one adapter at a time, SHA-256 checked first", np_verified)
    speed = j["gbPerSecond"] >= np_all["gbPerSecond"]
    memory = j["peakRssMiB"] <= np_all["peakRssMiB"] / 4
    print(f"target against numpy all-loaded (>= its GB/s in-process, <= 1/4 of its peak RSS): "
          f"speed {'met' if speed else 'NOT met'} ({j['gbPerSecond'] / np_all['gbPerSecond']:.2f}x), "
          f"memory {'met' if memory else 'NOT met'} ({j['peakRssMiB'] / np_all['peakRssMiB']:.2f} of it)")
    if "product" in results:
        pr = results["product"]
        print(f"fedtune aggregate ExactProduct (stack, QR, SVD of the {args.shards * args.rank}x{args.shards * args.rank} "
              f"core, truncate to rank {args.rank}): {pr['seconds']:.2f} s, peak RSS {pr['peakRssMiB']:.0f} MiB, "
              f"energy kept {pr['truncationEnergy']:.4f}")
    print(json.dumps({"fedtune": results, "numpyAll": np_all, "numpyStreaming": np_stream, "numpyVerified": np_verified}))


if __name__ == "__main__":
    main()
