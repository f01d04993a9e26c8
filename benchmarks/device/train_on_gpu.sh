#!/usr/bin/env bash
# The prepared GPU-session script (issue 27): train the default's recipe on a packed set on
# the lent GPU machine and bring back the run (checkpoints are left behind; the student,
# log and config come back under $OUT). Here, first:
#   python benchmarks/device/pack_store.py --store stores/zinc200k --teachers minimol,rdkit2d \
#       --n 12000 --out device_pack/zinc200k-12k.npz
# (24,000 rows, 26.7 MiB: with the tracked tree's ~34.5 MiB it stays under the 64 MiB that
# travel), then through the device tool, carrying the pack (it is git-ignored):
#   run(command="bash benchmarks/device/train_on_gpu.sh", carry=["device_pack"], timeout_s=540)
# STEPS and the pack can be overridden: STEPS=20000 PACK=device_pack/x.npz bash ...
# The run stops itself before the call's limit (TIME_LIMIT seconds of training, default 420),
# keeping its best checkpoint's export in $OUT/run/student.
set -euo pipefail
PACK=${PACK:-device_pack/zinc200k-12k.npz}
OUT=${OUT:-runs/device}
STEPS=${STEPS:-30000}
python - <<'PY'
import torch, torch_geometric
print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "pyg", torch_geometric.__version__)
PY
export PYTHONPATH=${PYTHONPATH:-}:$(pwd)
timeout "${TIME_LIMIT:-420}" python -m molmtd.cli distill --config zinc200k-minimol --store "$PACK" \
  --out "$OUT/run" --device cuda --max-steps "$STEPS" --no-progress \
  --set eval_every=500 --set checkpoint_every=500 --set 'keep_steps=[]' || echo "stopped (rc=$?)"
python - "$OUT/run" <<'PY'
import json, sys
from pathlib import Path
from molmtd.training.checkpoint import export_student
run = Path(sys.argv[1])
pointer = run / "checkpoints" / "latest.json"
if pointer.is_file() and not (run / "student").is_dir():  # stopped by the time limit
    best = json.loads(pointer.read_text()).get("best") or json.loads(pointer.read_text())["last"]
    export_student(run / "checkpoints" / best, run / "student")
print("run folder:", sorted(p.name for p in run.iterdir()))
PY
rm -rf "$OUT/run/checkpoints"   # 64 MiB back: the student export, log and config only
