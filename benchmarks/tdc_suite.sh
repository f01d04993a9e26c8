#!/usr/bin/env bash
# Full TDC ADMET group (22 tasks, official test sets, TDC scaffold train/valid per seed, MLP
# head selected on valid, seeds 1-5) for every representation of the README's full-suite
# table. Resumable: rows already in benchmarks/results/tdc_admet/results_mlp.csv are skipped,
# so rerunning with the committed CSV only redraws the report. The runs in the CSV were made
# with several writers in parallel (each with its own --out, tasks split between them) and
# the CSVs concatenated; the rows are the same as one writer's.
# Students: the shipped models (`molmtd models`); random-student:CONFIG is a random-init
# student of CONFIG's architecture (zinc200k: that of the default model).
set -euo pipefail
REPS=${REPS:-ecfp,rdkit2d,maccs,avalon,erg,chemnet,rxnfp,rxnmapper,featmorgan,atompair,torsion,student:zinc200k-gine-bnll,student:moses20k-gine-cosine,student:moses20k-gine-bnll,student:moses20k-gine-nll,random-student:zinc200k,random-student:moses20k}
molmtd benchmark --suite tdc-admet --reps "$REPS" --head mlp --seeds 5 --out benchmarks/results "$@"
