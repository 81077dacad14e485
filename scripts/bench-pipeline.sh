#!/usr/bin/env bash
# The whole training pipeline, bars in memory -> features + labels + split -> training -> evaluation ->
# saved model, for strategies/rsi_mean_reversion.yaml with a fixed number of epochs: ktrdr
# (train/src/bin/bench_pipeline.rs, the real ktrdr_train::run) vs the predecessor's way (pandas +
# PyTorch, scripts/bench_pipeline_torch.py) on the same synthetic 1h bars, alternating RUNS times.
# Prints every run, each side's best, and the ratios. A benchmark, not a test.
#
#   scripts/bench-pipeline.sh [BARS] [EPOCHS] [RUNS]
#
# Both sides use one torch intra-op thread unless OMP_NUM_THREADS says otherwise: for this tiny MLP at
# batch 32 a second thread buys nothing, and on a shared machine torch's two spinning threads lose up
# to 10x whenever another process holds a core, which swamps any difference between the two sides.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/setup-torch.sh)"
bars=${1:-200000}
epochs=${2:-5}
runs=${3:-3}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
python -c 'import pandas' 2>/dev/null || python -m pip install -q pandas >&2
cargo build --release --locked -p ktrdr-train --bin bench-pipeline >&2
csv=$(mktemp --suffix=.csv)
trap 'rm -f "$csv"' EXIT
echo "bars=$bars epochs=$epochs runs=$runs OMP_NUM_THREADS=$OMP_NUM_THREADS"
uptime
out=""
for _ in $(seq "$runs"); do
    # Alternating, so a burst of load from elsewhere on the machine hits both sides alike.
    r=$("${CARGO_TARGET_DIR:-target}/release/bench-pipeline" "$bars" "$epochs" "$csv")
    echo "$r"
    p=$(python scripts/bench_pipeline_torch.py "$csv" "$epochs")
    echo "$p"
    out+="$r"$'\n'"$p"$'\n'
done
uptime
python - <<PY
import re
runs = {"rust": [], "python": []}
for line in """$out""".strip().splitlines():
    side, rest = line.split(" ", 1)
    runs[side].append({k: v for k, v in re.findall(r"(\w+)=(\S+)", rest)})
best = {}
for side, rs in runs.items():
    b = {k: min(float(r[k]) for r in rs) for k in ("features_secs", "train_secs", "total_secs")}
    b["samples_per_sec"] = max(float(r["samples_per_sec"]) for r in rs)
    b["test_accuracy"] = rs[0]["test_accuracy"]
    best[side] = b
    print(f"best {side:6}: features {b['features_secs']:.3f} s, training {b['train_secs']:.2f} s, "
          f"total {b['total_secs']:.2f} s, {b['samples_per_sec']:.0f} samples/s, test accuracy {b['test_accuracy']}")
r, p = best["rust"], best["python"]
print(f"ratio python/rust: features {p['features_secs'] / r['features_secs']:.1f}x, "
      f"training {p['train_secs'] / r['train_secs']:.2f}x, total {p['total_secs'] / r['total_secs']:.2f}x (higher = ktrdr faster)")
PY
