#!/usr/bin/env python3
"""Compares the two federations of the skew experiment from what local mode left in their work folders
(run.json: the FederatedRun at its end; baseline.json: the base model's loss per eval set).

    python3 examples/skew-experiment/compare.py .fedtune/length-skew .fedtune/quality-skew DATA_DIR

Global effect: how far the federation moved the global adapter's in-domain and out-of-domain loss from the base
model's. Local effect: on each shard's own clean held-out data, the global adapter a round started from versus the
shard's adapter after that round's local training (localEvals), averaged over rounds.
"""
import json
import re
import sys
from pathlib import Path


def load(work):
    run = json.loads((work / "run.json").read_text())
    baseline = json.loads((work / "baseline.json").read_text())
    return run, baseline


def degraded_shares(data):
    """Per shard, the degraded share partition-summary.txt reports (absent: none degraded)."""
    summary = data / "partition-summary.txt"
    shares = {}
    lines = summary.read_text().splitlines() if summary.exists() else []
    degraded_col = lines[0].split().index("degraded") if lines and "degraded" in lines[0].split() else None
    for line in lines[1:]:
        cols = line.split()
        if cols and re.fullmatch(r"\d+", cols[0]):
            shares["shard-" + "abc"[int(cols[0])]] = float(cols[degraded_col]) if degraded_col is not None else 0.0
    return shares


def fmt(x):
    return "-" if x is None else f"{x:.4f}"


def main(length_work, quality_work, data):
    runs = {"length skew": (load(length_work), degraded_shares(data / "length")),
            "quality skew": (load(quality_work), degraded_shares(data / "quality"))}
    print("Global model: the last round's global adapter against the base model (Loss, lower is better)")
    print(f"{'':14}{'eval set':16}{'base':>8}{'last':>8}{'change':>9}")
    for name, ((run, baseline), _) in runs.items():
        last = run["status"]["history"][-1]
        for set_name, base_metrics in baseline.items():
            base = base_metrics.get("Loss")
            loss = last.get("evalScores", {}).get(set_name, {}).get("Loss", last.get("evalLosses", {}).get(set_name))
            change = None if loss is None or base is None else loss - base
            print(f"{name:14}{set_name:16}{fmt(base):>8}{fmt(loss):>8}{fmt(change):>9}")
    print()
    print("Local models: each shard's own clean held-out data, mean over rounds (Loss, lower is better)")
    print(f"{'':14}{'shard':10}{'degraded':>9}{'global':>9}{'local':>9}{'local-global':>14}")
    for name, ((run, _), shares) in runs.items():
        per_shard = {}
        for round_ in run["status"]["history"]:
            for e in round_.get("localEvals", []):
                if e.get("global") is not None and e.get("local") is not None:
                    per_shard.setdefault(e["shard"], []).append((e["global"], e["local"]))
        for shard in sorted(per_shard):
            pairs = per_shard[shard]
            g = sum(p[0] for p in pairs) / len(pairs)
            l = sum(p[1] for p in pairs) / len(pairs)
            print(f"{name:14}{shard:10}{shares.get(shard, 0.0):>9.2f}{g:>9.4f}{l:>9.4f}{l - g:>14.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
