#!/usr/bin/env python3
"""Makes the skew experiment's data: the quickstart's New Testament pool split two ways by `partition`, each
shard's records divided into train.jsonl and a clean held-out eval.jsonl, and the quickstart's global eval sets.

    python3 examples/skew-experiment/make_data.py OUT_DIR

writes OUT_DIR/{length,quality}/BUCKET/KEY, the layout local mode's --data reads.
"""
import gzip
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRAINER = ROOT / "trainer-image/target/fedtune-trainer.jar"
SHARDS = ["shard-a", "shard-b", "shard-c"]
EVAL_SHARE = 0.15
SPLITS = {
    # Dirichlet(0.3) over three context-length classes, nothing degraded
    "length": ["--by", "length", "--classes", "3", "--alpha", "0.3"],
    # even amounts (Dirichlet(100)), each shard's degraded share drawn in [0, 0.8]
    "quality": ["--by", "amount", "--alpha", "100", "--degraded-fraction", "0.8", "--degrade", "shuffle,truncate,mismatch"],
}


def nt_pool(path):
    """The quickstart's pool: New Testament chapters except every 10th (those are its in-domain eval set)."""
    with gzip.open(ROOT / "trainer-image/corpus/kjv.jsonl.gz", "rt", encoding="utf-8") as f:
        nt = [line for line in f if '"testament": "new"' in line]
    path.write_text("".join(line for i, line in enumerate(nt, 1) if i % 10 != 0), encoding="utf-8")


def split_shard(records, rng):
    """A seeded EVAL_SHARE of the shard's clean records is held out; the rest (degraded ones included) trains."""
    clean = [i for i, r in enumerate(records) if "degraded" not in json.loads(r)]
    held = set(rng.sample(clean, max(1, round(len(records) * EVAL_SHARE))))
    return ([r for i, r in enumerate(records) if i not in held], [r for i, r in enumerate(records) if i in held])


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    pool = out / "nt-pool.jsonl"
    nt_pool(pool)
    for name, options in SPLITS.items():
        parts = out / f"{name}-partition"
        subprocess.run(["java", "-jar", str(TRAINER), "partition", "--data", str(pool), "--shards", str(len(SHARDS)),
                        "--seed", "1", "--out", str(parts), *options], check=True, stdout=subprocess.DEVNULL)
        data = out / name
        rng = random.Random(1)
        for i, shard in enumerate(SHARDS):
            records = (parts / f"shard-{i:03d}.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
            train, held = split_shard(records, rng)
            (data / shard).mkdir(parents=True, exist_ok=True)
            (data / shard / "train.jsonl").write_text("".join(train), encoding="utf-8")
            (data / shard / "eval.jsonl").write_text("".join(held), encoding="utf-8")
        shutil.copytree(ROOT / "examples/quickstart/data/fedtune-runs/eval", data / "fedtune-runs/eval", dirs_exist_ok=True)
        shutil.copy(parts / "summary.txt", data / "partition-summary.txt")
        print(f"{name} skew:", (parts / "summary.txt").read_text(encoding="utf-8").strip().replace("\n", "\n  "))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
