#!/usr/bin/env bash
# Scores the kept checkpoints of issue 27's long run (runs/long27, benchmarks/suites/long27.sh):
# TDC validation on the pilot's 10 tasks (MLP head, 3 seeds) beside MiniMol, rdkit2d and the
# shipped default, and the held-out probe (3,000 ZINC250k molecules never trained on:
# 200,000-202,999 of the seed-0 permutation; ridge on 2,000, R² on 1,000) of MiniMol and
# rdkit2d. Each kept checkpoint is scored twice: its embedding (student:CHECKPOINT) and its
# rows with the teacher heads (exported once to RUN/heads/STEP by molmtd export-student
# --teacher-heads; the shipped default's form since 2026-12-06). Resumable; rerun as more
# checkpoints are kept.
set -euo pipefail
M=${MOLMTD:-molmtd}
OUT=benchmarks/results/minimol_learning_curve
TASKS=caco2_wang,lipophilicity_astrazeneca,solubility_aqsoldb,half_life_obach,herg,bbb_martins,dili,vdss_lombardo,clearance_hepatocyte_az,ppbr_az
ANCHORS=minimol,rdkit2d,student:zinc200k-gine-fp-mse
# runs/long27x (benchmarks/suites/long27x.sh) extends runs/long27 past step 23,190.
RUNS=runs/long27; [ -f runs/long27x/checkpoints/latest.json ] && RUNS=runs/long27,runs/long27x
REPS=$ANCHORS
for run in ${RUNS//,/ }; do
  for s in $(python -c "import json, sys; p = json.load(open(sys.argv[1])); print(' '.join(sorted(v for k, v in p.items() if k.startswith('keep-'))))" "$run/checkpoints/latest.json"); do
    [ "$run" = runs/long27x ] && [ "$s" = step-00023190 ] && continue  # the same weights as long27's
    REPS="$REPS,student:$run/checkpoints/$s"
    [ -d "$run/heads/$s" ] || $M export-student --checkpoint "$run/checkpoints/$s" --out "$run/heads/$s" --teacher-heads
    REPS="$REPS,student:$run/heads/$s"
  done
done
$M benchmark --suite tdc-admet --reps "$REPS" --tasks "$TASKS" --head mlp --seeds 3 --out "$OUT"
STORE=stores/heldout3k
if [ ! -f "$STORE.smi" ]; then
  python - "$STORE.smi" <<'PY'
import sys
from molmtd.data.corpus import load_corpus
smiles = load_corpus("zinc250k", n=None)
open(sys.argv[1], "w").write("\n".join(smiles[200000:203000]) + "\n")
PY
fi
$M teachers build --corpus "$STORE.smi" --seed -1 --out "$STORE" --n-jobs 2 --teachers minimol,rdkit2d
MODELS=${REPS#minimol,rdkit2d,}
$M report-teachers --store "$STORE" --models "$MODELS,random-student:zinc200k-minimol" --teachers minimol,rdkit2d \
  --test-fraction 0.3333333 --out "$OUT/probe"
python benchmarks/tools/learning_curve.py --results "$OUT/tdc_admet/results_mlp.csv" \
  --probe "$OUT/probe/probe.csv" --run "$RUNS" --anchors "$ANCHORS" --out "$OUT"
python benchmarks/tools/learning_curve.py --results "$OUT/tdc_admet/results_mlp.csv" \
  --probe "$OUT/probe/probe.csv" --run "$RUNS" --anchors "$ANCHORS" --folder heads --out "$OUT/heads"
