"""PyTorch CPU peer for bench/matmul_bench.ts.

Reads a JSON request on stdin:
  {"warmup": int, "reps": int,
   "cases": [{"name": str, "layout": "NN"|"NT"|"TN", "batch": int,
              "m": int, "n": int, "k": int, "broadcast_b": bool}]}
and prints one JSON object on stdout:
  {"torch": version, "threads": int, "blas": str, "results": [{"name": str, "ms": float}]}
Each time is the median wall-clock milliseconds of `reps` calls after `warmup` calls, with the
operands stored exactly as our kernels store them (a transposed layout is a transposed view, as
PyTorch's own linear backward uses them). Thread count comes from OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS, which the caller sets (OpenBLAS ignores torch.set_num_threads).
"""

import json
import os
import statistics
import sys
import time

import torch


def operands(case):
    batch, m, n, k = case["batch"], case["m"], case["n"], case["k"]
    lead = [batch] if batch > 1 else []
    a = torch.rand(*lead, k, m) if case["layout"] == "TN" else torch.rand(*lead, m, k)
    b_lead = [] if case["broadcast_b"] else lead
    b = torch.rand(*b_lead, n, k) if case["layout"] == "NT" else torch.rand(*b_lead, k, n)
    a_op = a.transpose(-1, -2) if case["layout"] == "TN" else a
    b_op = b.transpose(-1, -2) if case["layout"] == "NT" else b
    return a_op, b_op, torch.empty(*lead, m, n)


def time_case(case, warmup, reps):
    a, b, c = operands(case)
    for _ in range(warmup):
        torch.matmul(a, b, out=c)
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        torch.matmul(a, b, out=c)
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def loaded_blas():
    """The BLAS library this process loaded: Debian's torch uses whatever libblas.so.3 points to
    (reference BLAS is ~50x slower than OpenBLAS, so the report must say which)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        return "unknown"
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "none found"


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    results = [
        {"name": case["name"], "ms": time_case(case, request["warmup"], request["reps"])}
        for case in request["cases"]
    ]
    blas = loaded_blas()
    json.dump(
        {
            "torch": torch.__version__,
            "threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "1")),
            "blas": blas,
            "results": results,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
