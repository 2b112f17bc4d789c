#!/usr/bin/env python3
"""Expected data-parallel scaling, on paper, from measured per-step figures.

    python3 bench/scaling_model.py [runs/bench-dist]

Reads the 2-process runs of bench/distributed.sh (result.json: samples/s,
gradient bytes per step, seconds in gradient collectives) and projects a step
at 8, 32 and 64 hosts on 10 / 25 / 100 Gb/s links, weak scaling (the per-rank
batch stays; one rank per host):

  t_step(N) = t_compute + t_allreduce(N) + t_allgather(N)
  t_allreduce(N) = 2 (N-1)/N * dense_bytes / bw + 2 (N-1) * alpha      (ring all-reduce)
  t_allgather(N) = (N-1) * sparse_bytes / bw + 3 (N-1) * alpha          (ring all-gathers: layout, rows, values)
  efficiency = t_compute / t_step(N)

The exchange starts after backward (no overlap), so this is what the tool does,
not what an overlapping engine could do. alpha = 25 us per message hop.

Two workloads:
  * DCNv2 on GoodReads' feature count: the dense bytes from DCNv2's parameter
    count at GoodReads' 15 pooled fields (6 cross layers, 6 x 256 DNN, embedding
    32), the sparse bytes from the touched-row bound (every slot of every row a
    distinct id: batch x slots x (8 + 4 x 32) bytes), the compute from the
    measured ML-1M DCNv2 step scaled by the dense-parameter ratio.
  * ClickPrompt with RoBERTa-base: 124.6 M dense parameters (the embeddings of
    the PLM are dense in the HF model; float32 gradients), the compute from the
    measured PA-MLM step of the 2 x 128 PLM scaled by the encoder FLOP ratio
    (6 x non-embedding parameters x tokens).
"""
import json
import sys

ALPHA = 25e-6
LINKS = [10, 25, 100]  # Gb/s
HOSTS = [8, 32, 64]


def load(run):
    r = json.load(open(run + "/result.json"))
    d = r["distributed"]
    step = d["global_batch_size"] / r["train_samples_per_sec"]  # seconds per training step
    return r, d, step, d["gradient_collective_seconds"] / d["gradient_exchanges"]


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
    print(f"\n{name}: compute {compute * 1e3:.1f} ms/step, dense {dense / 1e6:.1f} MB, sparse {sparse / 1e3:.0f} KB per rank-step")
    print("| hosts | " + " | ".join(f"{l} Gb/s" for l in LINKS) + " |")
    print("|---|" + "---|" * len(LINKS))
    for n in HOSTS:
        cells = []
        for l in LINKS:
            bw = l * 1e9 / 8
            c = comm(n, dense, sparse, bw)
            cells.append(f"{100 * compute / (compute + c):.0f} % ({c * 1e3:.1f} ms comm)")
        print(f"| {n} | " + " | ".join(cells) + " |")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "runs/bench-dist"
    # DCNv2: the measured 2 x 1 run on ML-1M.
    r, d, step, comm_step = load(out + "/dcnv2-2x1")
    compute_ml1m = step - comm_step
    ml1m_fields = 8
    p_ml1m, p_gr = dcnv2_params(ml1m_fields), dcnv2_params(15)
    print(f"measured ML-1M DCNv2 (2 ranks, local batch {d['global_batch_size'] // 2}): step {step * 1e3:.1f} ms, "
          f"of which {comm_step * 1e3:.2f} ms gradient collectives; dense {d['dense_gradient_bytes_per_step'] / 1e6:.2f} MB "
          f"(model: {4 * p_ml1m / 1e6:.2f} MB), sparse {d['sparse_gradient_bytes_per_step'] / 1e3:.1f} KB "
          f"(bound: {d['global_batch_size'] // 2 * ml1m_fields * (8 + 128) / 1e3:.1f} KB)")
    local = d["global_batch_size"] // 2
    table("DCNv2 on GoodReads (15 fields, 4.5 M ids, per-rank batch %d)" % local, compute_ml1m * p_gr / p_ml1m,
          4 * p_gr, local * 20 * (8 + 4 * 32))
    # ClickPrompt: the measured 2 x 1 PA-MLM run (2 x 128 PLM).
    try:
        r, d, step, comm_step = load(out + "/pamlm-2x1")
    except FileNotFoundError:
        return
    small = 2 * 12 * 128 * 128  # 2 layers x 12 h^2 non-embedding parameters
    base = 12 * 12 * 768 * 768
    print(f"\nmeasured PA-MLM (2 x 128 PLM, K=5, 2 ranks): step {step * 1e3:.1f} ms, {comm_step * 1e3:.2f} ms in "
          f"gradient collectives, dense {d['dense_gradient_bytes_per_step'] / 1e6:.2f} MB per step")
    compute = (step - comm_step) * base / small
    table("ClickPrompt with RoBERTa-base (per-rank batch %d, this machine's per-core speed)" % (d["global_batch_size"] // 2),
          compute, 4 * 124.6e6, d["sparse_gradient_bytes_per_step"])
    table("ClickPrompt with RoBERTa-base on a host 100x faster (a GPU)", compute / 100, 4 * 124.6e6,
          d["sparse_gradient_bytes_per_step"])


if __name__ == "__main__":
    main()
