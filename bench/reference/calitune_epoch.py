"""Seconds per CaliTune fine-tuning epoch in plain PyTorch, as the reference implementation runs
it (docs/numeric-contract.md §9-§10): a BPR backbone (the oracle's embeddings), relevance
candidates = the top-K items of each training user by the current scores (item 0 masked, train
items not), regenerated after every epoch; batches of 16 shuffled users; loss
(1 - a)·KL(softmax(y) || softmax(s)) + a·KL(P + eps || Q + eps), both kl_div 'batchmean', where
y marks the candidates that are train items, r = (s - min s)/(max s - min s), Q = the r-weighted
group shares of the candidates, P the user's target (the oracle's .userbaseline), eps = 1e-10;
RAdam (lr 1e-4) over the trainable tensors, StepLR (20, 0.9); validation each epoch: valid
NDCG@10 (train items masked) and JSD@10 of the test-time lists (train and valid items masked).

  python3 bench/reference/calitune_epoch.py --oracle DIR [--frozen|--trainable] [--threads 1]
      [--epochs 5] [--warmup 1] [--k 50] [--alpha 0.5]
DIR is the oracle folder (user_emb.npy, item_emb.npy, splits/, ml-100k.popularity,
ml-100k.userbaseline). Prints per-epoch phase seconds (train, candidate regeneration,
validation) and RESULT lines (median, min) of the train step, the whole epoch and its process
CPU seconds (all threads; the steadier figure on a shared machine).
"""
import argparse
import glob
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import csr_rows, read_splits, result, summary

EPS = 1e-10


def read_table(path):
    """Rows after the header and the [PAD] row of a .popularity / .userbaseline file, as float64."""
    rows = [line.rstrip("\n").split("\t")[1:] for line in open(path, encoding="utf8").readlines()[2:]]
    return np.array(rows, dtype=np.float64)


def mask_index(ptr, idx, users):
    """(row, column) index tensors of every item of each listed user (rows in list order)."""
    rows = np.repeat(np.arange(len(users)), np.diff(ptr)[users])
    cols = np.concatenate([idx[ptr[u]:ptr[u + 1]] for u in users])
    return torch.from_numpy(rows), torch.from_numpy(cols)


class Validation:
    """Valid NDCG@10 and test-time JSD@10 (log base 2) over users 1..n-1, one scoring pass."""

    def __init__(self, sp, n_users, groups, targets):
        self.users = np.arange(1, n_users)
        t_ptr, t_idx = csr_rows(*sp["train"], n_users)
        self.v_ptr, self.v_idx = csr_rows(*sp["valid"], n_users)
        self.train_mask = mask_index(t_ptr, t_idx, self.users)
        self.valid_mask = mask_index(self.v_ptr, self.v_idx, self.users)
        self.groups = torch.from_numpy(groups)
        self.targets = torch.from_numpy(targets[self.users])
        self.disc = 1.0 / np.log2(np.arange(2, 12))

    def __call__(self, U, I):
        with torch.no_grad():
            s = U[torch.from_numpy(self.users)] @ I.T
            s[:, 0] = -np.inf
            s[self.train_mask] = -np.inf
            top_valid = torch.topk(s, 10, dim=1).indices.numpy()
            s[self.valid_mask] = -np.inf
            top_test = torch.topk(s, 10, dim=1).indices
        ndcg = 0.0
        for r, u in enumerate(self.users):
            rel = self.v_idx[self.v_ptr[u]:self.v_ptr[u + 1]]
            if len(rel):
                ndcg += (np.isin(top_valid[r], rel) * self.disc).sum() / self.disc[: min(len(rel), 10)].sum()
        q = self.groups[top_test].sum(dim=1) / 10.0 + EPS
        p = self.targets + EPS
        m = 0.5 * (p + q)
        jsd = 0.5 * (p * torch.log2(p / m)).sum(dim=1) + 0.5 * (q * torch.log2(q / m)).sum(dim=1)
        return ndcg / len(self.users), float(jsd.mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--trainable", action="store_true", help="train the item tower too (default: frozen)")
    ap.add_argument("--frozen", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--alpha", type=float, default=0.5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(111)
    rng = np.random.default_rng(111)
    sp = read_splits(a.oracle)
    U0 = np.load(os.path.join(a.oracle, "user_emb.npy"))
    I0 = np.load(os.path.join(a.oracle, "item_emb.npy"))
    n_users, n_items = U0.shape[0], I0.shape[0]
    groups = np.zeros((n_items, 3), dtype=np.float32)
    groups[1:] = read_table(glob.glob(os.path.join(a.oracle, "*.popularity"))[0])
    targets = np.zeros((n_users, 3))
    targets[1:] = read_table(glob.glob(os.path.join(a.oracle, "*.userbaseline"))[0])
    U = torch.nn.Parameter(torch.from_numpy(U0.copy()))
    I = torch.nn.Parameter(torch.from_numpy(I0.copy()), requires_grad=a.trainable)
    params = [U, I] if a.trainable else [U]
    opt = torch.optim.RAdam(params, lr=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.9)
    tu, ti = sp["train"]
    t_ptr, t_idx = csr_rows(tu, ti, n_users)
    train_users = np.flatnonzero(np.diff(t_ptr) > 0)
    positive = torch.zeros(n_users, n_items, dtype=torch.bool)
    positive[torch.from_numpy(tu), torch.from_numpy(ti)] = True
    group_t = torch.from_numpy(groups)
    target_t = torch.from_numpy(targets).float()
    validate = Validation(sp, n_users, groups, targets)
    mode = "trainable" if a.trainable else "frozen"
    print(f"calitune_epoch.py: {n_users - 1} users x {n_items - 1} items, item tower {mode}, K {a.k}, alpha {a.alpha}, "
          f"torch {torch.__version__}, {a.threads} thread(s)", flush=True)

    def regenerate():
        with torch.no_grad():
            s = U[torch.from_numpy(train_users)] @ I.T
            s[:, 0] = -np.inf
            return torch.topk(s, a.k, dim=1).indices

    cands = regenerate()
    row_of = np.full(n_users, -1)
    row_of[train_users] = np.arange(len(train_users))
    trains, regens, valids, walls, cpus = [], [], [], [], []
    for epoch in range(a.warmup + a.epochs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        perm = rng.permutation(train_users)
        for s in range(0, len(perm), 16):
            users = perm[s:s + 16]
            ut = torch.from_numpy(users)
            c = cands[torch.from_numpy(row_of[users])]
            scores = torch.mul(U[ut].unsqueeze(1), I[c]).sum(dim=-1)
            y = positive[ut.unsqueeze(1), c].float()
            acc = F.kl_div(F.log_softmax(scores, dim=1), F.softmax(y, dim=1), reduction="batchmean")
            lo = scores.min(dim=1, keepdim=True).values
            hi = scores.max(dim=1, keepdim=True).values
            r = (scores - lo) / (hi - lo)
            w = torch.bmm(r.unsqueeze(1), group_t[c]).squeeze(1)
            q = w / w.sum(dim=1, keepdim=True)
            cal = F.kl_div(torch.log(q + EPS), target_t[ut] + EPS, reduction="batchmean")
            loss = (1 - a.alpha) * acc + a.alpha * cal
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        t1 = time.perf_counter()
        cands = regenerate()
        t2 = time.perf_counter()
        ndcg, jsd = validate(U.detach(), I.detach())
        t3 = time.perf_counter()
        print(f"  epoch {epoch}: valid NDCG@10 {ndcg:.5f} JSD@10 {jsd:.5f}  train {t1 - t0:.4f} s, "
              f"regeneration {t2 - t1:.4f} s, validation {t3 - t2:.4f} s", flush=True)
        if epoch >= a.warmup:
            trains.append(t1 - t0)
            regens.append(t2 - t1)
            valids.append(t3 - t2)
            walls.append(t3 - t0)
            cpus.append(time.process_time() - c0)
    print(f"  min / median over {a.epochs} epochs: train {summary(trains)}, regeneration {summary(regens)}, "
          f"validation {summary(valids)}, epoch {summary(walls)}, process CPU {summary(cpus)}", flush=True)
    tag = f"{mode}_t{a.threads}"
    result(f"torch_calitune_train_{tag}", trains)
    result(f"torch_calitune_epoch_{tag}", walls)
    result(f"torch_calitune_epoch_cpu_{tag}", cpus)


if __name__ == "__main__":
    main()
