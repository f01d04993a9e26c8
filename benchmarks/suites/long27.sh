#!/usr/bin/env bash
# Issue 27's long run (molmtd/configs/zinc200k-minimol.yaml): the store, then training to
# 10x the shipped default's steps, resumed from its last checkpoint by every rerun. Run it
# in the background at the start of a session: `nohup bash benchmarks/suites/long27.sh > logs/long27.log 2>&1 &`
# Learning-curve points (1x, 3x, 10x) stay in runs/long27/checkpoints (keep-<step> in
# latest.json); score them with benchmarks/suites/learning_curve27.sh.
set -euo pipefail
M=${MOLMTD:-molmtd}
$M teachers build --corpus zinc250k --n 200000 --out stores/zinc200k --n-jobs 2 --no-progress \
  --teachers minimol,rdkit2d
resume=""; [ -f runs/long27/checkpoints/latest.json ] && resume="--resume"
OMP_NUM_THREADS=1 ${TORCHRUN:-torchrun} --standalone --nproc_per_node "${RANKS:-2}" -m molmtd.cli \
  distill --config zinc200k-minimol --out runs/long27 --no-progress $resume
