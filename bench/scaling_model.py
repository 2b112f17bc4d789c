#!/usr/bin/env python3
"""Expected data-parallel scaling, on paper, from measured per-step figures.

    python3 bench/scaling_model.py [runs/bench-dist]

Reads the 2-process DCNv2 run of bench/distributed.sh (result.json: samples/s,
gradient bytes per step, seconds in gradient collectives) and projects a step
at 8, 32 and 64 hosts on 10 / 25 / 100 Gb/s links, weak scaling (one rank per
host, the per-rank batch fixed):

  t_step(N)      = t_compute + t_allreduce(N) + t_allgather(N)
  t_allreduce(N) = 2 (N-1)/N * dense_bytes / bw + 2 (N-1) * alpha   (ring all-reduce)
  t_allgather(N) = (N-1) * sparse_bytes / bw + 3 (N-1) * alpha       (ring all-gathers: layout, rows, values)
  efficiency     = t_compute / t_step(N)

The exchange starts after backward (the tool does not overlap it with the
backward pass), so this models what the tool does. alpha = 25 us per hop.

DCNv2 on GoodReads' feature count: dense bytes from DCNv2's parameter count
(6 full-rank cross layers, 6 x 256 DNN, embedding 32) at 15 pooled fields, the
sparse bytes from the touched-row bound (20 id slots per row, every one a
distinct row: batch x 20 x (8 + 4 x 32) bytes; the measured ML-1M figure is
half its bound), compute = 6 x dense parameters x batch FLOPs at the effective
rate measured here on ML-1M (and at 20x that: a 16-core host).

ClickPrompt with RoBERTa-base (PA-MLM or fine-tuning with the PLM): 124.6 M
dense float32 gradients (HF's word embeddings are dense), batch 32 per rank x
80 tokens (ML-1M's text view with K = 5 prompts), 6 x 85 M non-embedding
parameters FLOPs per token plus the LM head on the 15 % masked tokens; compute
at 1.5 TFLOP/s (bf16 GEMM on an AMX Xeon, issue 22's measurement) and at
400 TFLOP/s (an H100 at 40 % of its bf16 peak: an assumption, not measured).
"""
import json
import sys

ALPHA = 25e-6
LINKS = [10, 25, 100]  # Gb/s
HOSTS = [8, 32, 64]


def dcnv2_params(fields, dim=32, cross=6, hidden=(256,) * 6):
    d = fields * dim
    n = cross * (d * d + d)
    prev = d
    for h in hidden:
        n += prev * h + h
        prev = h
    return n + (d + prev) + 1


def comm(n, dense, sparse, bw):
    return 2 * (n - 1) / n * dense / bw + 2 * (n - 1) * ALPHA + (n - 1) * sparse / bw + 3 * (n - 1) * ALPHA


def table(name, compute, dense, sparse):
    print(f"\n{name}: compute {compute * 1e3:.1f} ms/step, dense {dense / 1e6:.1f} MB, "
          f"sparse {sparse / 1e3:.0f} KB per rank and step")
    print("\n| hosts | " + " | ".join(f"{l} Gb/s" for l in LINKS) + " |")
    print("|---|" + "---|" * len(LINKS))
    for n in HOSTS:
        cells = []
        for l in LINKS:
            c = comm(n, dense, sparse, l * 1e9 / 8)
            cells.append(f"{100 * compute / (compute + c):.0f} % ({c * 1e3:.1f} ms)")
        print(f"| {n} | " + " | ".join(cells) + " |")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "runs/bench-dist"
    r = json.load(open(out + "/dcnv2-2x1/result.json"))
    d = r["distributed"]
    local = d["global_batch_size"] // d["world_size"]
    step = d["global_batch_size"] / r["train_samples_per_sec"]
    comm_step = d["gradient_collective_seconds"] / d["gradient_exchanges"]
    p_ml1m, p_gr = dcnv2_params(8), dcnv2_params(15)
    rate = 6 * p_ml1m * local / (step - comm_step)  # effective FLOP/s of one rank here
    print(f"measured, ML-1M DCNv2, 2 ranks x batch {local}: step {step * 1e3:.1f} ms, of which "
          f"{comm_step * 1e3:.2f} ms in gradient collectives; dense {d['dense_gradient_bytes_per_step'] / 1e6:.2f} MB "
          f"(DCNv2's parameter count: {4 * p_ml1m / 1e6:.2f} MB), sparse "
          f"{d['sparse_gradient_bytes_per_step'] / 1e3:.1f} KB (bound {local * 8 * 136 / 1e3:.1f} KB); "
          f"effective compute {rate / 1e9:.1f} GFLOP/s per rank")
    flops = 6 * p_gr * local
    for label, speed in (("this machine's core", 1), ("a host 20x faster", 20)):
        table(f"DCNv2 on GoodReads (15 fields, 4.5 M ids, batch {local} per rank), {label}", flops / (rate * speed),
              4 * p_gr, local * 20 * (8 + 4 * 32))
    tokens = 32 * 80
    cp_flops = tokens * (6 * 85.0e6 + 0.15 * 6 * 768 * 50265)
    sparse_cp = 32 * 8 * 136  # the DCNv2 backbone's touched rows at batch 32
    for label, tflops in (("1.5 TFLOP/s (AMX bf16)", 1.5), ("400 TFLOP/s (H100, assumed)", 400)):
        table(f"ClickPrompt with RoBERTa-base, batch 32 per rank, {label}", cp_flops / (tflops * 1e12), 4 * 124.6e6,
              sparse_cp)


if __name__ == "__main__":
    main()
