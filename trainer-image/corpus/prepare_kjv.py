#!/usr/bin/env python3
"""Turns the output of Debian's `bible` program (package bible-kjv 4.38 with bible-kjv-text)
into one JSONL record per chapter: {"book", "chapter", "testament", "text"}, verses separated by
blank lines. Reproduce with:
    apt-get download bible-kjv bible-kjv-text && dpkg-deb -x bible-kjv_*.deb x && dpkg-deb -x bible-kjv-text_*.deb x
    x/usr/bin/bible -p x/usr/lib "gen1:1-rev22:21" > kjv.txt
    python3 prepare_kjv.py kjv.txt | gzip -9n > kjv.jsonl.gz
"""
import json
import re
import sys

HEADER = re.compile(r"^(\S.*) (\d+)$")
VERSE = re.compile(r"^\s+(\d+) (.*)$")

records, book, chapter, verses = [], None, None, []


def flush():
    if book is not None and verses:
        records.append({"book": book, "chapter": chapter, "text": "\n\n".join(v.strip() for v in verses)})


for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if not line.strip():
        continue
    m = HEADER.match(line)
    if m and not line.startswith(" "):
        flush()
        book, chapter, verses = m.group(1), int(m.group(2)), []
        continue
    v = VERSE.match(line)
    if v:
        verses.append(v.group(2))
    elif verses:
        verses[-1] += " " + line.strip()
flush()
new_testament_from = next(i for i, r in enumerate(records) if r["book"] == "Matthew")
for i, r in enumerate(records):
    r["testament"] = "new" if i >= new_testament_from else "old"
    print(json.dumps({k: r[k] for k in ("book", "chapter", "testament", "text")}, ensure_ascii=False))
