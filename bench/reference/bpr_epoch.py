"""Seconds per BPR epoch in plain PyTorch, trained exactly as RecBole 1.2 trains BPR: 256-d user
and item embeddings (xavier_normal_), batches of 4096 shuffled train pairs with one uniform
negative each (an item the user has not interacted with in train, drawn again until it is not),
loss mean(-log(1e-10 + sigmoid(pos - neg))), Adam lr 1e-4, then a full-sort validation each
epoch (all items scored, item 0 and the user's train items masked, NDCG@10 over the valid users).

  python3 bench/reference/bpr_epoch.py --data DIR [--threads 1] [--epochs 5] [--warmup 1] [--label ml-100k]
DIR holds splits/{train,valid,test}_split.tsv (header user_id<TAB>item_id, internal ids 1..N).
Prints per-epoch seconds and RESULT lines (median, min) for the train step, the validation,
the whole epoch and its process CPU seconds (all threads).
"""
import argparse
import time

import numpy as np
import torch

from common import csr_rows, read_splits, result, sizes, summary


def sample_negatives(rng, users, n_items, pos_keys):
    """One uniform negative per pair in 1..n_items-1, redrawn while it is a train item of the user."""
    neg = rng.integers(1, n_items, size=users.shape[0])
    bad = np.isin(users * n_items + neg, pos_keys, assume_unique=False)
    while bad.any():
        neg[bad] = rng.integers(1, n_items, size=int(bad.sum()))
        bad[bad] = np.isin(users[bad] * n_items + neg[bad], pos_keys)
    return neg


def ndcg_at_10(scores, valid_ptr, valid_idx, users):
    """Mean NDCG@10 of the top-10 of `scores` (rows = users) against each user's valid items."""
    top = torch.topk(scores, 10, dim=1).indices.numpy()
    disc = 1.0 / np.log2(np.arange(2, 12))
    total = 0.0
    for r, u in enumerate(users):
        rel = valid_idx[valid_ptr[u]:valid_ptr[u + 1]]
        hits = np.isin(top[r], rel)
        ideal = disc[: min(len(rel), 10)].sum()
        total += (hits * disc).sum() / ideal
    return total / len(users)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--label", default="ml-100k")
    ap.add_argument("--n-users", type=int, default=0)
    ap.add_argument("--n-items", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(2020)
    rng = np.random.default_rng(2020)
    sp = read_splits(a.data)
    n_users, n_items = sizes(sp, a.n_users, a.n_items)
    tu, ti = sp["train"]
    pos_keys = np.unique(tu * n_items + ti)
    t_ptr, t_idx = csr_rows(tu, ti, n_users)
    v_ptr, v_idx = csr_rows(*sp["valid"], n_users)
    valid_users = np.unique(sp["valid"][0])
    mask_rows = torch.from_numpy(np.repeat(np.arange(len(valid_users)), np.diff(t_ptr)[valid_users]))
    mask_cols = torch.from_numpy(np.concatenate([t_idx[t_ptr[u]:t_ptr[u + 1]] for u in valid_users]))

    user_emb = torch.nn.Embedding(n_users, 256)
    item_emb = torch.nn.Embedding(n_items, 256)
    torch.nn.init.xavier_normal_(user_emb.weight)
    torch.nn.init.xavier_normal_(item_emb.weight)
    opt = torch.optim.Adam(list(user_emb.parameters()) + list(item_emb.parameters()), lr=1e-4)
    print(f"bpr_epoch.py: {a.label}, {n_users - 1} users x {n_items - 1} items, {len(tu)} train pairs, "
          f"torch {torch.__version__}, {a.threads} thread(s)", flush=True)
    trains, valids, walls, cpus = [], [], [], []
    for epoch in range(a.warmup + a.epochs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        perm = rng.permutation(len(tu))
        users_all, pos_all = tu[perm], ti[perm]
        neg_all = sample_negatives(rng, users_all, n_items, pos_keys)
        loss_sum = 0.0
        for s in range(0, len(tu), 4096):
            u = torch.from_numpy(users_all[s:s + 4096])
            p = torch.from_numpy(pos_all[s:s + 4096])
            n = torch.from_numpy(neg_all[s:s + 4096])
            ue = user_emb(u)
            x = torch.mul(ue, item_emb(p)).sum(dim=1) - torch.mul(ue, item_emb(n)).sum(dim=1)
            loss = -torch.log(1e-10 + torch.sigmoid(x)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item()
        t1 = time.perf_counter()
        with torch.no_grad():
            scores = user_emb(torch.from_numpy(valid_users)) @ item_emb.weight.T
            scores[:, 0] = -np.inf
            scores[mask_rows, mask_cols] = -np.inf
            ndcg = ndcg_at_10(scores, v_ptr, v_idx, valid_users)
        t2 = time.perf_counter()
        print(f"  epoch {epoch}: loss {loss_sum:.4f} valid NDCG@10 {ndcg:.5f}  train {t1 - t0:.4f} s, "
              f"validation {t2 - t1:.4f} s", flush=True)
        if epoch >= a.warmup:
            trains.append(t1 - t0)
            valids.append(t2 - t1)
            walls.append(t2 - t0)
            cpus.append(time.process_time() - c0)
    print(f"  min / median over {a.epochs} epochs: train {summary(trains)}, validation {summary(valids)}, "
          f"epoch {summary(walls)}, process CPU {summary(cpus)}", flush=True)
    tag = f"{a.label}_t{a.threads}"
    result(f"torch_bpr_train_{tag}", trains)
    result(f"torch_bpr_valid_{tag}", valids)
    result(f"torch_bpr_epoch_{tag}", walls)
    result(f"torch_bpr_epoch_cpu_{tag}", cpus)


if __name__ == "__main__":
    main()
