#!/usr/bin/env python3
"""Same-machine reference: the CTR models of this repo written in plain PyTorch
(eager, Python training loop), as FuxiCTR/DeepCTR-Torch run them: dense
nn.Embedding, torch.optim.Adam, BCE, batch 256, gradient clipping at 10.
It has no data loader overhead (pre-shuffled tensors, contiguous slices), so it
is an upper bound on a Python library's speed for the same math.

    python3 bench/pytorch_reference.py [--threads 2] [--steps 600] [models...]

Needs Debian's python3-torch. Field sizes are ML-1M's (8 fields, 16,899 ids).
"""
import argparse
import time

import torch
import torch.nn as nn

FIELD_SIZES = [6041, 3, 8, 22, 3440, 3707, 3707, 19]


class FM(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.emb = nn.Embedding(sum(FIELD_SIZES), d)
        self.lin = nn.Embedding(sum(FIELD_SIZES), 1)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, ids):
        e = self.emb(ids)
        s = e.sum(1)
        return 0.5 * (s * s - (e * e).sum(1)).sum(1) + self.lin(ids).sum((1, 2)) + self.bias


def mlp(d_in, units):
    layers = []
    for u in units:
        layers += [nn.Linear(d_in, u), nn.ReLU()]
        d_in = u
    return nn.Sequential(*layers)


class DNN(nn.Module):
    def __init__(self, d=32, units=(256, 256, 256)):
        super().__init__()
        self.emb = nn.Embedding(sum(FIELD_SIZES), d)
        self.mlp = mlp(len(FIELD_SIZES) * d, units)
        self.out = nn.Linear(units[-1], 1)

    def forward(self, ids):
        return self.out(self.mlp(self.emb(ids).flatten(1))).squeeze(1)


class DCNv2(nn.Module):
    def __init__(self, d=32, cross=6, units=(256,) * 6):
        super().__init__()
        self.emb = nn.Embedding(sum(FIELD_SIZES), d)
        dim = len(FIELD_SIZES) * d
        self.cross = nn.ModuleList([nn.Linear(dim, dim) for _ in range(cross)])
        self.mlp = mlp(dim, units)
        self.out = nn.Linear(dim + units[-1], 1)

    def forward(self, ids):
        x0 = self.emb(ids).flatten(1)
        x = x0
        for layer in self.cross:
            x = x0 * layer(x) + x
        return self.out(torch.cat([x, self.mlp(x0)], 1)).squeeze(1)


def random_ids(n):
    offsets = torch.tensor([0] + FIELD_SIZES[:-1]).cumsum(0)
    cols = [torch.randint(s, (n,)) for s in FIELD_SIZES]
    return torch.stack(cols, 1) + offsets


def bench(name, model, steps, batch=256, eval_batch=4096):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids, labels = random_ids(steps * batch), torch.randint(0, 2, (steps * batch,)).float()
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    for warm in (True, False):
        t0 = time.perf_counter()
        n = 20 if warm else steps
        for s in range(n):
            x, y = ids[s * batch:(s + 1) * batch], labels[s * batch:(s + 1) * batch]
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 10)
            opt.step()
        train = n * batch / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        for s in range(0, ids.shape[0], eval_batch):
            torch.sigmoid(model(ids[s:s + eval_batch]))
        infer = ids.shape[0] / (time.perf_counter() - t0)
    print(f"| {name} | {train:,.0f} | {infer:,.0f} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("models", nargs="*", default=["fm", "dnn", "dcnv2"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"# PyTorch {torch.__version__}, threads={torch.get_num_threads()}")
    print("| model | train samples/s | infer samples/s (batch 4096) |\n|---|---|---|")
    for m in a.models:
        bench(m, {"fm": FM, "dnn": DNN, "dcnv2": DCNv2}[m](), a.steps)


if __name__ == "__main__":
    main()
