"""Shared helpers of the PyTorch reference benchmarks (bench/reference/*.py): split files in the
oracle's layout, timing summaries and RESULT lines. Our own code, written to time the reference
algorithms on this machine; not part of the TypeScript package and not run in CI."""
import os
import statistics

import numpy as np


def read_split(path):
    """(users, items) int64 arrays of a split TSV with a header line user_id<TAB>item_id."""
    a = np.loadtxt(path, dtype=np.int64, delimiter="\t", skiprows=1, ndmin=2)
    return a[:, 0].copy(), a[:, 1].copy()


def read_splits(folder):
    """train / valid / test (users, items) of folder/splits/{name}_split.tsv."""
    return {n: read_split(os.path.join(folder, "splits", f"{n}_split.tsv")) for n in ("train", "valid", "test")}


def sizes(splits, n_users=0, n_items=0):
    """Users and items including padding id 0: the given sizes, or one more than the largest id seen."""
    mu = max(int(s[0].max()) for s in splits.values()) + 1
    mi = max(int(s[1].max()) for s in splits.values()) + 1
    return max(n_users, mu), max(n_items, mi)


def csr_rows(users, items, n_users):
    """Per-user item lists (index arrays into a sorted copy): indptr, indices."""
    order = np.lexsort((items, users))
    u, i = users[order], items[order]
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    return np.cumsum(indptr), i


def summary(xs):
    """'min / median' of a list of seconds."""
    return f"{min(xs):.4f} / {statistics.median(xs):.4f}"


def result(name, xs):
    """The RESULT lines of a timed quantity: its median, then its minimum (name_min)."""
    print(f"RESULT {name} {statistics.median(xs):.4f} s", flush=True)
    print(f"RESULT {name}_min {min(xs):.4f} s", flush=True)
