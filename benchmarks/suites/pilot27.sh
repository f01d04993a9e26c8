#!/usr/bin/env bash
# Issue 27 pilots: what a student needs to hold MiniMol, at one small equal budget.
# Store: the 20,000-molecule seed-0 ZINC250k prefix with MiniMol, rdkit2d and the 7 hashed
# fingerprints. Students (benchmarks/configs/pilot27/): the default's GINE 5x300 (concat
# readout, 512-d) taught by MiniMol + rdkit2d with MSE, 1,200 steps of 256 (16 epochs):
#   mean         today's readout (mean of every layer)
#   meansum      mean and sum/32 of every layer (a readout that carries size)
#   meansum-rw   meansum plus 16 random-walk return probabilities per atom
#   meansum-rw-bnll  meansum-rw with the Gaussian-kernel beta-NLL instead of MSE
#   meansum-rw-deep8 meansum-rw with 8 GINE layers (added in the session of 2026-12-06, run alone)
#   meansum-rw-wide420 meansum-rw with GINE width 420 (same session)
#   meansum-rw-cosine  meansum-rw with the cosine objective (session of 2026-12-06, second)
#   meansum-rw-fp      meansum-rw plus the 7 hashed fingerprints kept whole (item 4; same session)
#   meansum-rw-fppca   meansum-rw plus each fingerprint projected onto its top 64 principal
#                      components (teachers NAME-pca64, fitted on the 20k corpus; same session)
# Two runs at a time, one thread each (the fastest use of 2 cores). Rerun to resume.
# Then TDC validation (MLP head, 3 seeds, the 10 tasks) with MiniMol and rdkit2d,
# chosen on *validation* only.
set -euo pipefail
M=${MOLMTD:-molmtd}
$M teachers build --corpus zinc250k --n 20000 --out stores/zinc20k --n-jobs 2 --no-progress \
  --teachers minimol,rdkit2d,morgan,featmorgan,atompair,torsion,maccs,avalon,erg
$M teachers build --corpus zinc250k --n 20000 --out stores/zinc20k --n-jobs 2 --no-progress --fit-n 0 \
  --teachers morgan-pca64,featmorgan-pca64,atompair-pca64,torsion-pca64,maccs-pca64,avalon-pca64,erg-pca64
run() {  # config name [extra distill args]
  local c=$1; shift
  local resume=""; [ -d "runs/pilot27-$c/checkpoints" ] && resume="--resume"
  local base=${c%-bnll}; base=${base%-cosine}
  OMP_NUM_THREADS=1 $M distill --config "benchmarks/configs/pilot27/$base.yaml" \
    --out "runs/pilot27-$c" --no-progress $resume "$@" > "runs/pilot27-$c.log" 2>&1
}
mkdir -p runs
( run mean; run meansum-rw-bnll --loss beta-nll ) &
( run meansum; run meansum-rw ) &
wait
run meansum-rw-deep8
run meansum-rw-wide420
run meansum-rw-cosine --loss cosine
run meansum-rw-fppca
run meansum-rw-fp
TASKS=caco2_wang,lipophilicity_astrazeneca,solubility_aqsoldb,half_life_obach,herg,bbb_martins,dili,vdss_lombardo,clearance_hepatocyte_az,ppbr_az
REPS=minimol,rdkit2d,student:runs/pilot27-mean,student:runs/pilot27-meansum,student:runs/pilot27-meansum-rw,student:runs/pilot27-meansum-rw-bnll,student:runs/pilot27-meansum-rw-deep8,student:runs/pilot27-meansum-rw-wide420,student:runs/pilot27-meansum-rw-cosine,student:runs/pilot27-meansum-rw-fppca,student:runs/pilot27-meansum-rw-fp
$M benchmark --suite tdc-admet --reps "$REPS" --tasks "$TASKS" --head mlp --seeds 3 \
  --out benchmarks/results/minimol_pilot
python benchmarks/tools/valid_ranks.py benchmarks/results/minimol_pilot/tdc_admet/results_mlp.csv \
  --reps "$REPS" --out benchmarks/results/minimol_pilot/valid_ranks.md
# Held-out probe (stores/heldout3k: built by benchmarks/suites/learning_curve27.sh)
$M report-teachers --store stores/heldout3k --models "${REPS#minimol,rdkit2d,},student:zinc200k-gine-fp-mse,random-student:benchmarks/configs/pilot27/meansum-rw.yaml" \
  --teachers minimol,rdkit2d --test-fraction 0.3333333 --out benchmarks/results/minimol_pilot/probe
