#!/usr/bin/env bash
# Issue 27 pilots: what a student needs to hold MiniMol, at one small equal budget.
# Store: the 20,000-molecule seed-0 ZINC250k prefix with MiniMol, rdkit2d and the 7 hashed
# fingerprints. Students (benchmarks/configs/pilot27/): the default's GINE 5x300 (concat
# readout, 512-d) taught by MiniMol + rdkit2d with MSE, 1,200 steps of 256 (16 epochs):
#   mean         today's readout (mean of every layer)
#   meansum      mean and sum/32 of every layer (a readout that carries size)
#   meansum-rw   meansum plus 16 random-walk return probabilities per atom
#   meansum-rw-bnll  meansum-rw with the Gaussian-kernel beta-NLL instead of MSE
# Two runs at a time, one thread each (the fastest use of 2 cores). Rerun to resume.
# Then TDC validation (MLP head, 3 seeds, the 10 tasks) with MiniMol and rdkit2d,
# chosen on *validation* only.
set -euo pipefail
M=${MOLMTD:-molmtd}
$M teachers build --corpus zinc250k --n 20000 --out stores/zinc20k --n-jobs 2 --no-progress \
  --teachers minimol,rdkit2d,morgan,featmorgan,atompair,torsion,maccs,avalon,erg
run() {  # config name [extra distill args]
  local c=$1; shift
  local resume=""; [ -d "runs/pilot27-$c/checkpoints" ] && resume="--resume"
  OMP_NUM_THREADS=1 $M distill --config "benchmarks/configs/pilot27/${c%-bnll}.yaml" \
    --out "runs/pilot27-$c" --no-progress $resume "$@" > "runs/pilot27-$c.log" 2>&1
}
mkdir -p runs
( run mean; run meansum-rw-bnll --loss beta-nll ) &
( run meansum; run meansum-rw ) &
wait
TASKS=caco2_wang,lipophilicity_astrazeneca,solubility_aqsoldb,half_life_obach,herg,bbb_martins,dili,vdss_lombardo,clearance_hepatocyte_az,ppbr_az
REPS=minimol,rdkit2d,student:runs/pilot27-mean,student:runs/pilot27-meansum,student:runs/pilot27-meansum-rw,student:runs/pilot27-meansum-rw-bnll
$M benchmark --suite tdc-admet --reps "$REPS" --tasks "$TASKS" --head mlp --seeds 3 \
  --out benchmarks/results/minimol_pilot
python benchmarks/tools/valid_ranks.py benchmarks/results/minimol_pilot/tdc_admet/results_mlp.csv \
  --reps "$REPS" --out benchmarks/results/minimol_pilot/valid_ranks.md
