#!/usr/bin/env bash
# The seed paper's protocol: 28 TDC single-instance ADMET/Tox sets (molalkit CSVs, offline),
# random 80/10/10 split per seed, MLP head selected on valid, seeds 1-5; report: mean rank,
# mean AUROC (classification) and mean R² (regression), win/tie/loss vs ECFP4.
# Resumable: rows already in benchmarks/results/paper/results_mlp.csv are skipped, so
# rerunning with the committed CSV only redraws the report. The committed rows were made by
# two writers (CYP Veith x5, Ames, LD50 | the rest), each with its own --out, joined with
# benchmarks/tools/merge_results.py; the rows are those of one writer.
# Representations: the three 200k students with the most evidence on the TDC group (shipped
# default and fingerprints-only beta-NLL students; the unshipped MSE student, recipe in
# benchmarks/suites/tdc_suite.sh), ECFP4 counts and the two strongest teachers there.
set -euo pipefail
REPS=${REPS:-student:zinc200k-gine-minimol-mse-heads,student:zinc200k-gine-minimol-mse,minimol,student:zinc200k-gine-fp-mse,student:zinc200k-gine-fp-bnll,student:runs/zinc200k-mse,student:zinc200k-gine-bnll,ecfp,rdkit2d,chemnet,random-student:zinc200k}
molmtd benchmark --suite paper --reps "$REPS" --head mlp --seeds 5 --out benchmarks/results "$@"
