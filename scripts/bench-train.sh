#!/usr/bin/env bash
# Training throughput, example MLP on CPU: ktrdr-train (tch) vs Python PyTorch from the same venv,
# same model, data size, batch size and epochs; prints both and the ratio. A benchmark, not a test.
#
#   scripts/bench-train.sh [ROWS] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/setup-torch.sh)"
# One torch intra-op thread per side unless OMP_NUM_THREADS says otherwise: ktrdrd's default
# (training.torch_threads = 1), and on a busy 2-core machine the default of one per core swings both
# sides up to 10x (docs/training.md, "Threads").
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
rows=${1:-20000}
epochs=${2:-5}
cargo build --release --locked -p ktrdr-train --bin bench-train >&2
rust=$("${CARGO_TARGET_DIR:-target}/release/bench-train" "$rows" "$epochs")
py=$(python - "$rows" "$epochs" <<'PY'
import sys, time, torch
n, epochs = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(1)
x = torch.rand(n, 9)
s = x[:, 0] + x[:, 1]
y = torch.where(s > 1.2, 0, torch.where(s < 0.8, 2, 1))
xv = torch.rand(n // 10, 9)
model = torch.nn.Sequential(torch.nn.Linear(9, 50), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                            torch.nn.Linear(50, 25), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                            torch.nn.Linear(25, 3))
opt = torch.optim.Adam(model.parameters(), lr=0.001)
loss_fn = torch.nn.CrossEntropyLoss()
start = time.perf_counter()
seen = 0
for _ in range(epochs):
    model.train()
    perm = torch.randperm(n)
    for i in range(0, n, 32):
        idx = perm[i:i + 32]
        logits = model(x[idx])
        loss = loss_fn(logits, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(idx)
        loss.item()
    model.eval()
    with torch.no_grad():
        model(xv)
secs = time.perf_counter() - start
print(f"python samples_per_sec={seen / secs:.0f} secs={secs:.2f} torch={torch.__version__}")
PY
)
echo "$rust"
echo "$py"
r=$(sed -n 's/.*samples_per_sec=\([0-9.]*\).*/\1/p' <<<"$rust")
p=$(sed -n 's/.*samples_per_sec=\([0-9.]*\).*/\1/p' <<<"$py")
python -c "print(f'ratio rust/python = {$r / $p:.2f}x')"
