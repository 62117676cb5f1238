#!/usr/bin/env python3
"""Which b-trees a SQLite WAL's commits wrote, per commit (docs/benchmarks/FINDINGS.md, findings 20-23).

Usage: wal_pages.py DB WAL, where WAL is a copy of DB's -wal file taken after the writer was
killed (bench/scripts/pinned_load.sh with KEEP_WAL=1 leaves both). Reads the frames of the WAL's
current generation, counts each commit's pages, and names each page's b-tree through a copy of
the database opened read-only (SQLite's dbstat table).
"""
import collections
import shutil
import sqlite3
import struct
import sys
import tempfile


def main(db, wal):
    data = open(wal, "rb").read()
    _, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">IIIIIIII", data[:32])
    frames, offset, size = [], 32, 24 + page_size
    while offset + size <= len(data):
        page, commit, s1, s2 = struct.unpack(">IIII", data[offset:offset + 16])
        if (s1, s2) != (salt1, salt2):
            break
        frames.append((page, commit))
        offset += size
    with tempfile.TemporaryDirectory() as tmp:
        copy = f"{tmp}/db"
        shutil.copy(db, copy)
        shutil.copy(wal, copy + "-wal")
        con = sqlite3.connect(copy)
        owner = {page: name for name, page in con.execute("SELECT name, pageno FROM dbstat")}
        con.close()
    per_btree, commits, pending = collections.Counter(), 0, []
    for page, commit in frames:
        pending.append(page)
        if commit:
            commits += 1
            per_btree.update(owner.get(p, "?") for p in pending)
            pending = []
    if not commits:
        sys.exit("no complete commit in this WAL generation")
    print(f"{len(frames)} frames, {commits} commits, {sum(per_btree.values()) / commits:.1f} pages per commit")
    for name, n in per_btree.most_common():
        print(f"{name:30} {n:8} {n / commits:6.2f} per commit")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
