#!/usr/bin/env python3
"""Same-machine reference for the encoder benchmark (issue 4): the forward of
HuggingFace transformers 4.29's RobertaModel written out in eager PyTorch, module
for module as HF runs it (separate q/k/v nn.Linear on 3-D activations,
transpose_for_scores, matmul, additive mask, softmax, post-LayerNorm, exact
GELU). transformers itself is not installable here (no PyPI), so this is the
same sequence of ATen calls without the Python wrapper overhead of HF's
generic code paths: an upper bound on HF's speed on this machine.

    python3 bench/pytorch_plm_reference.py [--threads 2] [--batch 32] [--seq 64]

Shapes default to RoBERTa-base (12 layers, 768 wide, 12 heads, FFN 3072), random
weights, no MLM head, torch.no_grad, float32 and bf16 autocast, as
bench/bench_plm.cpp's BM_EncoderForward. Needs Debian's python3-torch.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.attn_out, self.ln1 = nn.Linear(d, d), nn.LayerNorm(d, eps=1e-5)
        self.inter, self.out, self.ln2 = nn.Linear(d, ffn), nn.Linear(ffn, d), nn.LayerNorm(d, eps=1e-5)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.dh).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh) + mask
        ctx = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(x.shape)
        x = self.ln1(self.attn_out(ctx) + x)
        return self.ln2(self.out(F.gelu(self.inter(x))) + x)


class Encoder(nn.Module):
    def __init__(self, vocab=50265, d=768, layers=12, heads=12, ffn=3072, positions=514):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(vocab, d), nn.Embedding(positions, d), nn.Embedding(1, d)
        self.ln = nn.LayerNorm(d, eps=1e-5)
        self.layers = nn.ModuleList(Layer(d, heads, ffn) for _ in range(layers))

    def forward(self, ids, attention_mask):
        pad = 1
        m = ids.ne(pad).int()
        positions = torch.cumsum(m, dim=1) * m + pad
        x = self.ln(self.word(ids) + self.pos(positions) + self.token_type(torch.zeros_like(ids)))
        ext = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, ext)
        return x


def flops(d, layers, ffn, b, t):
    per_layer = 2 * b * t * (4 * d * d + 2 * d * ffn) + 2 * 2 * b * t * t * d
    return layers * per_layer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=6.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Encoder().eval()
    ids = torch.randint(3, 50265, (a.batch, a.seq))
    mask = torch.ones_like(ids)
    total = flops(768, 12, 3072, a.batch, a.seq)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {a.batch} x {a.seq}")
    for name, ctx in (("fp32", None), ("bf16", torch.bfloat16)):
        with torch.no_grad(), torch.autocast("cpu", dtype=ctx or torch.bfloat16, enabled=ctx is not None):
            model(ids, mask)  # warm-up
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < a.seconds:
                model(ids, mask)
                n += 1
            dt = (time.perf_counter() - t0) / n
        print(f"{name}: {dt * 1e3:.0f} ms/forward, {a.batch * a.seq / dt:,.0f} tokens/s, "
              f"{total / dt / 1e9:.0f} GFLOP/s")
        # GEMM rate in the same run, as BM_Gemm
        x = torch.randn(2048, 2048)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=ctx is not None):
            torch.mm(x, x)
            t0 = time.perf_counter()
            for _ in range(5):
                torch.mm(x, x)
            dt = (time.perf_counter() - t0) / 5
        print(f"  GEMM 2048^3 {name}: {2 * 2048 ** 3 / dt / 1e9:.0f} GFLOP/s")


if __name__ == "__main__":
    main()
