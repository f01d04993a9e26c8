#!/usr/bin/env bash
# Issue 27's long run extended to 20x the previous default's steps (46,380): a second cosine
# cycle started from the shipped 10x checkpoint (runs/long27/checkpoints/step-00023190, the
# default zinc200k-gine-minimol-mse). The step-23,190 checkpoint is copied into runs/long27x
# once; then `molmtd distill --resume --max-steps 46380` follows the longer schedule from
# step 23,190 on (the learning rate goes back up to about half its peak and decays to the
# floor again at 46,380). Resumed from its last checkpoint by every rerun; start it in the
# background: `nohup bash benchmarks/suites/long27x.sh > logs/long27x.log 2>&1 &`.
# Kept checkpoints (15x, 20x) are scored like the others with learning_curve27.sh RUN=runs/long27x.
set -euo pipefail
M=${MOLMTD:-molmtd}
SRC=runs/long27/checkpoints/step-00023190
RUN=runs/long27x
if [ ! -f "$RUN/checkpoints/latest.json" ]; then
  [ -d "$SRC" ] || { echo "long27x: $SRC is missing: run benchmarks/suites/long27.sh first" >&2; exit 2; }
  mkdir -p "$RUN/checkpoints"
  cp -r "$SRC" "$RUN/checkpoints/"
  cp runs/long27/log.csv runs/long27/config.yaml "$RUN/"
  printf '{"best": "step-00023190", "keep-00023190": "step-00023190", "last": "step-00023190"}\n' \
    > "$RUN/checkpoints/latest.json.tmp"
  mv "$RUN/checkpoints/latest.json.tmp" "$RUN/checkpoints/latest.json"
fi
OMP_NUM_THREADS=1 ${TORCHRUN:-torchrun} --standalone --nproc_per_node "${RANKS:-2}" -m molmtd.cli \
  distill --config zinc200k-minimol --out "$RUN" --no-progress --resume \
  --max-steps 46380 --set 'keep_steps=[23190,34785,46380]'
