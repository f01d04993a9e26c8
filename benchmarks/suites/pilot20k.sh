#!/usr/bin/env bash
# Issue 16 pilot: the objective at an identical, small budget (CPU-sized).
# 20,000 ZINC250k molecules (the seed-0 prefix of the 200k store), the 10 teachers with full
# coverage (7 fingerprints, rdkit2d, chemnet, rxnfp), GINE 4x256 (256-d), 1,200 steps of 128
# (8 epochs), one candidate per config in benchmarks/configs/pilot20k/:
#   bnll   today's recipe: Gaussian on every teacher, beta-NLL (0.5), log-precision bound 7,
#          global gradient clip
#   typed  Bernoulli kernels on the presence bits of the sparse teachers (likelihoods: auto),
#          Gaussian elsewhere with log-precision bound 2, LayerNorm on s at the kernel input,
#          student-only gradient clip (the authors' recipe)
#   gauss2 as typed, but Gaussian on every teacher (isolates the Bernoulli kernels)
#   mse, cosine  the baselines, same heads' width
# Then TDC validation scores (linear head, 3 seeds, 10 tasks), chosen on *valid* only, and
# the held-out teacher report of the runs (benchmarks/suites/teacher_report.sh builds that store).
set -euo pipefail
S="--corpus zinc250k --n 20000 --out stores/zinc20k --n-jobs 2"
molmtd teachers build $S --teachers morgan,featmorgan,atompair,torsion,maccs,avalon,erg,rdkit2d,chemnet,rxnfp
for c in typed mse bnll cosine gauss2; do
  resume=""; [ -d "runs/pilot20k-$c/checkpoints" ] && resume="--resume"
  molmtd distill --config "benchmarks/configs/pilot20k/$c.yaml" --out "runs/pilot20k-$c" $resume
done
TASKS=caco2_wang,hia_hou,pgp_broccatelli,bbb_martins,lipophilicity_astrazeneca,solubility_aqsoldb,herg,dili,bioavailability_ma,half_life_obach
REPS=student:runs/pilot20k-typed,student:runs/pilot20k-mse,student:runs/pilot20k-bnll,student:runs/pilot20k-cosine,student:runs/pilot20k-gauss2,random-student:moses20k,ecfp,rdkit2d
molmtd benchmark --suite tdc-admet --reps "$REPS" --tasks "$TASKS" --head linear --seeds 3 \
  --out benchmarks/results/objective_pilot
python benchmarks/tools/valid_ranks.py benchmarks/results/objective_pilot/tdc_admet/results_linear.csv \
  --reps "$REPS" --out benchmarks/results/objective_pilot/valid_ranks.md
MODELS=${REPS/,ecfp,rdkit2d/} OUT=benchmarks/results/objective_pilot/teacher_report \
  bash benchmarks/suites/teacher_report.sh
