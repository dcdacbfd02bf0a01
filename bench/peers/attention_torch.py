"""PyTorch CPU peer for bench/attention_bench.ts.

Reads a JSON request on stdin:
  {"warmup": int, "reps": int,
   "cases": [{"name": str, "direction": "fwd"|"bwd", "causal": bool,
              "batch_heads": int, "t": int, "d": int}]}
and prints one JSON object on stdout:
  {"torch": version, "threads": int, "kernel": str, "results": [{"name": str, "ms": float}]}
Forward: `scaled_dot_product_attention` where this torch has it (2.0+), otherwise the same math
written out (softmax(Q Kᵀ / sqrt(d) + mask) V), which is what SDPA's CPU path computes at these
sizes; "kernel" says which. Backward: autograd of that forward for dQ, dK, dV with a random dO; the forward graph is built
once and only `torch.autograd.grad(..., retain_graph=True)` is timed (our backward rows time the
backward only, too).
Each time is the median wall-clock milliseconds of `reps` calls after `warmup` calls. Thread
count comes from OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, which the caller sets.
"""

import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def attention(q, k, v, causal):
    if HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        t = q.shape[-2]
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def median_ms(run, warmup, reps):
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def time_case(case, warmup, reps):
    shape = (case["batch_heads"], case["t"], case["d"])
    backward = case["direction"] == "bwd"
    q, k, v = (torch.rand(*shape, requires_grad=backward) for _ in range(3))
    d_out = torch.rand(*shape)

    if not backward:
        def forward():
            with torch.no_grad():
                attention(q, k, v, case["causal"])

        return median_ms(forward, warmup, reps)

    out = attention(q, k, v, case["causal"])
    return median_ms(
        lambda: torch.autograd.grad(out, (q, k, v), d_out, retain_graph=True), warmup, reps
    )


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    results = [
        {"name": case["name"], "ms": time_case(case, request["warmup"], request["reps"])}
        for case in request["cases"]
    ]
    json.dump(
        {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "kernel": "scaled_dot_product_attention" if HAS_SDPA else "matmul-softmax-matmul",
            "results": results,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
