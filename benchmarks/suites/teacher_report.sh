#!/usr/bin/env bash
# "What the student knows of each teacher" (issue 16, step 1): held-out linear-probe R² of
# every teacher from every embedding, plus the kernels' MI for runs that keep their kernels.
#
# The held-out molecules are ZINC250k molecules 200,000-202,999 of the seed-0 permutation that
# every 200k/20k ZINC store uses (load_corpus prefixes), so no shipped ZINC student saw them.
# Resumable: the store build skips finished chunks; the report takes a few minutes.
#   MODELS="student:runs/x,..." bash benchmarks/suites/teacher_report.sh
set -euo pipefail
STORE=${STORE:-stores/heldout3k}
OUT=${OUT:-benchmarks/results/teacher_report/shipped_models}
MODELS=${MODELS:-student:zinc200k-gine-fp-mse,student:zinc200k-gine-fp-bnll,random-student:zinc200k}
mkdir -p "$(dirname "$STORE")"
if [ ! -f "$STORE.smi" ]; then
  python - "$STORE.smi" <<'PY'
import sys
from molmtd.data.corpus import load_corpus
smiles = load_corpus("zinc250k", n=None)
open(sys.argv[1], "w").write("\n".join(smiles[200000:203000]) + "\n")
PY
fi
for T in morgan,featmorgan,atompair,torsion,maccs,avalon,erg,chemnet,rdkit2d rxnfp,rxnmapper usrcat,rdkit3d,ani2x,ani,e3fp; do
  molmtd teachers build --corpus "$STORE.smi" --seed -1 --out "$STORE" --n-jobs 2 --teachers "$T"
done
molmtd report-teachers --store "$STORE" --models "$MODELS" --out "$OUT"
