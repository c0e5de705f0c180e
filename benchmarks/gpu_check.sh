#!/usr/bin/env bash
# Issue 13's GPU check, prepared for a CUDA machine (H100/H200: well under 10 minutes in all):
#   bash benchmarks/gpu_check.sh [OUT_DIR]        (after `make install`; PY=... to use another interpreter)
# 1. the `gpu`-marked tests; 2. k-means case c — 10M × 64, K = 4096, 20 iterations, the torch engine (TF32)
# against faiss-GPU when that build is installed, with the device's measured fp32/TF32 matmul rate in the same
# run; 3. distributed k-means on NCCL (one rank per GPU, 1M × 64); 4. two-tower training at trainer=gpu.
# Every step has its own time limit and is recorded as ok / FAILED / skipped; a missing piece (no GPU, no
# faiss-GPU, one GPU only) never stops the others. One summary at the end; the exit code is 0 unless a step failed.
set -u
cd "$(dirname "$0")/.."
OUT=${1:-outputs/gpu_check}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT"
SUMMARY=()
FAILED=0

step() {  # step NAME TIMEOUT_S COMMAND...
  local name=$1 limit=$2; shift 2
  local began=$SECONDS
  echo "=== $name (limit ${limit}s)"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$? took=$((SECONDS - began))
  tail -n 15 "$OUT/$name.log"
  if [ $rc -eq 0 ]; then SUMMARY+=("$name: ok (${took}s)")
  else SUMMARY+=("$name: FAILED rc=$rc (${took}s, see $OUT/$name.log)"); FAILED=1; fi
}

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "gpu_check: torch sees no CUDA device here: nothing to check (skipped)"
  exit 0
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
FAISS_GPU=$("$PY" -c "import faiss; print(getattr(faiss, 'get_num_gpus', lambda: 0)())" 2>/dev/null || echo 0)
NGPU=$("$PY" -c "import torch; print(torch.cuda.device_count())")

step gpu_tests 240 "$PY" -m pytest -q -m gpu -p no:cacheprovider
step kmeans_case_c 360 "$PY" scripts/benchmark_kmeans.py case=c repeats=2 hydra.run.dir="$OUT/kmeans_c"
"$PY" - "$OUT/dist.npy" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
np.save(sys.argv[1], (rng.normal(0, 4, (64, 64))[rng.integers(0, 64, 1_000_000)] + rng.normal(size=(1_000_000, 64))).astype(np.float32))
PY
step kmeans_nccl 180 "$PY" -m torch.distributed.run --standalone --nproc_per_node="$NGPU" \
  scripts/kmeans_distributed.py input="$OUT/dist.npy" k=1024 k2=8 engine=torch precision=tf32 n_iter=20 \
  hydra.run.dir="$OUT/kmeans_nccl"
step two_tower_gpu 240 "$PY" scripts/train.py model=two_tower trainer=gpu trainer.max_epochs=3 logger=none \
  progress=false model.pooling=mean model.eval_every=1 optimized_metric=val/recall@100 hydra.run.dir="$OUT/two_tower"

echo
echo "================ gpu_check summary ($OUT) ================"
[ -f "$OUT/gpu.txt" ] && tail -n 1 "$OUT/gpu.txt"
echo "faiss GPUs: $FAISS_GPU, torch GPUs: $NGPU"
printf '%s\n' "${SUMMARY[@]}"
"$PY" - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
c = out / "kmeans_c" / "benchmark.json"
if c.exists():
    r = json.loads(c.read_text())
    print("case c:", r.get("skipped") or r.get("note") or "", "peak GFLOP/s", {k: round(v) for k, v in r.get("gemm_peak_gflops", {}).items()})
    for name, row in r.get("engines", {}).items():
        print(f"  {name}: {row['seconds']:.2f} s for {r['config']['n_iter']} iterations, {row['gflops']:.0f} GFLOP/s, "
              f"{100 * row['fraction_of_peak']:.0f}% of peak")
    e = r.get("engines", {})
    if "torch" in e and "faiss" in e:
        print(f"  torch / faiss-GPU time ratio: {e['torch']['seconds'] / e['faiss']['seconds']:.3f}")
m = out / "kmeans_nccl" / "metrics.json"
if m.exists():
    r = json.loads(m.read_text())
    print(f"NCCL k-means: {int(r['world_size'])} rank(s), fit {r['fit_seconds']:.1f} s, {int(r['n_iter'])} iterations + level 2")
t = out / "two_tower" / "metrics.json"
if t.exists():
    r = json.loads(t.read_text())
    print("two-tower trainer=gpu: val/recall@100 =", r.get("val/recall@100"), "epochs =", r.get("epochs"))
PY
exit $FAILED
