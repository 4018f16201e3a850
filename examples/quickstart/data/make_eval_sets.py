#!/usr/bin/env python3
"""Writes the quickstart's task eval sets into fedtune-runs/eval/ (run from the repository root, Python 3 + numpy):

    python3 examples/quickstart/data/make_eval_sets.py

book-{in,out-of}-domain.jsonl   MultipleChoice {"prompt", "choices", "answer"}: which book a verse is from
continue-{in,out-of}-domain.jsonl  Generation {"prompt", "completion"}: the rest of a verse from its first ~60%

In-domain verses come from the held-out New Testament chapters of in-domain.jsonl (in no shard); out-of-domain ones
from the Old Testament, the base model's own pretraining text, so a drop there is forgetting. Seeded: rerunning it
gives the same files. Each set's longest prompt is printed in tokens of trainer-image/base-model/tokenizer.json.
"""
import gzip
import json
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "examples/quickstart/data"
EVAL = DATA / "fedtune-runs/eval"
CORPUS = ROOT / "trainer-image/corpus/kjv.jsonl.gz"
TOKENIZER = ROOT / "trainer-image/base-model/tokenizer.json"
SEED = 12
BOOK_RECORDS = 40
CONTINUE_RECORDS = 30
CHOICES = 4
# verses between these lengths (characters): long enough to say something, short enough for cheap evaluation
MIN_CHARS, MAX_CHARS = 60, 200
PROMPT_SHARE = 0.6
# the run's continue sets generate at most 24 new tokens: every completion fits, with room to stop
MAX_COMPLETION_TOKENS = 20
BOOK_CUE = "\nBook:"


def verses(record):
    return [v.strip() for v in record["text"].split("\n\n") if v.strip()]


def shard_verses():
    seen = set()
    for shard in sorted(DATA.glob("shard-*/train.jsonl")):
        for line in shard.read_text().splitlines():
            seen.update(verses(json.loads(line)))
    return seen


def book_records(picked, books, rng):
    out = []
    for book, verse in picked:
        others = [b for b in books if b != book]
        choices = [book] + [others[i] for i in rng.choice(len(others), size=CHOICES - 1, replace=False)]
        order = rng.permutation(CHOICES)
        choices = [" " + choices[i] for i in order]
        out.append({"prompt": verse + BOOK_CUE, "choices": choices, "answer": int(np.where(order == 0)[0][0])})
    return out


def continue_records(picked):
    out = []
    for _, verse in picked:
        words = verse.split(" ")
        cut = max(1, round(len(words) * PROMPT_SHARE))
        # the completion keeps its leading space: prompt + completion is the verse
        out.append({"prompt": " ".join(words[:cut]), "completion": " " + " ".join(words[cut:])})
    return out


class Tokenizer:
    """The base model's byte-level BPE (GPT-2 style), enough to count tokens."""

    def __init__(self, path):
        spec = json.loads(path.read_text())
        self.vocab = spec["model"]["vocab"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in spec["model"]["merges"]]
        self.ranks = {m: i for i, m in enumerate(merges)}
        printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(
            range(ord("\xae"), ord("\xff") + 1))
        codes, n = printable[:], 0
        for b in range(256):
            if b not in printable:
                printable.append(b)
                codes.append(256 + n)
                n += 1
        self.byte_char = {b: chr(c) for b, c in zip(printable, codes)}
        self.split = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")

    def count(self, text):
        total = 0
        for piece in self.split.findall(text):
            word = [self.byte_char[b] for b in piece.encode("utf-8")]
            while len(word) > 1:
                pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
                rank, i = min(pairs)
                if rank == 1 << 30:
                    break
                word = word[:i] + [word[i] + word[i + 1]] + word[i + 2:]
            unknown = [w for w in word if w not in self.vocab]
            if unknown:
                raise ValueError(f"not in the vocabulary: {unknown}")
            total += len(word)
        return total


def write(name, records, tokenizer):
    with open(EVAL / name, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    prompt = max(tokenizer.count(r["prompt"]) for r in records)
    answer = max(tokenizer.count(a) for r in records for a in r.get("choices", []) + [r.get("completion", "")])
    print(f"{name}: {len(records)} records, longest prompt {prompt} tokens, longest answer {answer} tokens")


def main():
    rng = np.random.default_rng(SEED)
    corpus = [json.loads(line) for line in gzip.open(CORPUS, "rt")]
    held_out = {(r["book"], r["chapter"]) for r in map(json.loads, (EVAL / "in-domain.jsonl").read_text().splitlines())}
    in_shards = shard_verses()

    def pool(keep):
        seen, out = set(), []
        for r in corpus:
            if keep(r):
                for v in verses(r):
                    if MIN_CHARS <= len(v) <= MAX_CHARS and v not in seen and v not in in_shards:
                        seen.add(v)
                        out.append((r["book"], v))
        return out

    nt_books = list(dict.fromkeys(r["book"] for r in corpus if r["testament"] == "new"))
    ot_books = list(dict.fromkeys(r["book"] for r in corpus if r["testament"] == "old"))
    nt = pool(lambda r: (r["book"], r["chapter"]) in held_out)
    ot = pool(lambda r: r["testament"] == "old")
    tokenizer = Tokenizer(TOKENIZER)
    for (books, verses_, domain) in ((nt_books, nt, "in-domain"), (ot_books, ot, "out-of-domain")):
        # one shuffle, split: no verse is in both the book and the continue set
        order = rng.permutation(len(verses_))
        book = [verses_[i] for i in sorted(order[:BOOK_RECORDS])]
        fits = [i for i in order[BOOK_RECORDS:]
                if tokenizer.count(continue_records([verses_[i]])[0]["completion"]) <= MAX_COMPLETION_TOKENS]
        cont = [verses_[i] for i in sorted(fits[:CONTINUE_RECORDS])]
        write(f"book-{domain}.jsonl", book_records(book, books, rng), tokenizer)
        write(f"continue-{domain}.jsonl", continue_records(cont), tokenizer)


if __name__ == "__main__":
    main()
