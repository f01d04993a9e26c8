"""Build a shipped model's applicability-domain reference (``domain.safetensors``).

    MOLMTD_DATA_DIR=/work/shared/data python benchmarks/release/build_domain_reference.py \
        --model zinc200k-gine-fp-bnll --n 2000 --k 5 --components 32

Embeds the first ``--n`` molecules of the seeded ZINC250k permutation that the model's
pre-training subset was drawn from (``load_corpus("zinc250k", n, seed=0)``, a subset of
``load_corpus("zinc250k", n=200000, seed=0)``), builds :class:`molmtd.domain.DomainReference`
(``--components`` leading principal components, none for the raw space) and writes it into
the model folder, recording its sha256, size and this command under ``"domain"`` in the
model card (checked at load like the weights).
"""

from __future__ import annotations

import argparse
import json

from molmtd.data.corpus import load_corpus
from molmtd.domain import DOMAIN_FILE, DomainReference
from molmtd.featurizer import Featurizer
from molmtd.models import CARD_FILE, model_dir, sha256_file
from molmtd.utils import write_json


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="shipped model name")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--components", type=int, default=32, help="0: no projection")
    args = p.parse_args(argv)
    folder = model_dir(args.model)
    smiles = list(load_corpus("zinc250k", n=args.n, seed=0))
    X = Featurizer(model=args.model, standardize="none").transform(smiles)
    reference = DomainReference.build(X, k=args.k, components=args.components or None)
    command = (
        f"python benchmarks/release/build_domain_reference.py --model {args.model} --n {args.n} "
        f"--k {args.k} --components {args.components}"
    )
    path = folder / DOMAIN_FILE
    reference.save(path, metadata={"command": command, "corpus": "zinc250k", "seed": "0"})
    card_path = folder / CARD_FILE
    card = json.loads(card_path.read_text())
    card["domain"] = {
        "file": DOMAIN_FILE,
        "sha256": sha256_file(path),
        "n_reference": int(reference.reference.shape[0]),
        "k": args.k,
        "components": args.components or None,
        "scale": reference.scale,
        "corpus": 'first n of load_corpus("zinc250k", n, seed=0), inside the pre-training subset',
        "command": command,
        "benchmark": "benchmarks/results/domain_score/domain_score.md",
    }
    write_json(card_path, card)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB), scale {reference.scale:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
