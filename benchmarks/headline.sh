#!/usr/bin/env bash
# Headline comparison of the shipped student against its teachers, ECFP4 and a random-init
# student of the same architecture: TDC ADMET group (official test sets, TDC scaffold
# train/valid split per seed), MLP head selected on valid, 5 seeds.
# This session's CPU budget covered the 11 TDC tasks with < 2,100 molecules; the other 11
# (CYP Veith x3, Ames, LD50, solubility, lipophilicity, ...) are a later run of the same
# command with --tasks removed. Resumable: finished (task, rep, seed) rows are skipped.
# student:runs/moses20k-mse is the MSE ablation: `molmtd distill --config moses20k --loss mse --out runs/moses20k-mse`.
set -euo pipefail
TASKS=caco2_wang,hia_hou,pgp_broccatelli,bioavailability_ma,bbb_martins,herg,dili,half_life_obach,vdss_lombardo,clearance_hepatocyte_az,ppbr_az
REPS=${REPS:-student:default,student:runs/moses20k-mse,random-student:moses20k,ecfp,rdkit2d,maccs,chemnet,rxnfp}
molmtd benchmark --suite tdc-admet --tasks "$TASKS" --reps "$REPS" --head mlp --seeds 5 \
    --out benchmarks/results/headline "$@"
