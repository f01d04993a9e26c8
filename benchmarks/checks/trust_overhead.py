"""What standardisation, the domain score and weight verification cost the Featurizer.

    MOLMTD_DATA_DIR=/work/shared/data python benchmarks/checks/trust_overhead.py --n 2000 --rounds 5

Paired, in one process, on one core (``torch.set_num_threads(1)``, ``n_jobs=1``): each round
times every configuration once on the same molecules, in a shuffled order, and the ratio to
the round's baseline (``standardize="none"``, no domain score) is taken per round, so load
drifts on a shared machine hit both sides of a ratio alike. Molecules: the first ``--n`` of
AqSolDB's TDC train_val (11% carry counterions) and of the ZINC250k permutation. Model load
is timed with and without the sha256 check. Writes ``trust_overhead.csv`` under ``--out``.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molmtd.data.corpus import load_corpus
from molmtd.data.datasets import load_tdc_admet
from molmtd.featurizer import Featurizer

CONFIGS = {
    "baseline (none, no domain score)": {"standardize": "none", "domain": False},
    "domain score": {"standardize": "none", "domain": True},
    "largest_fragment": {"standardize": "largest_fragment", "domain": False},
    "parent": {"standardize": "parent", "domain": False},
    "parent + domain score": {"standardize": "parent", "domain": True},
}


def featurizer(model: str, standardize: str, domain: bool) -> Featurizer:
    feat = Featurizer(model=model, standardize=standardize, on_error="nan")
    backbone = feat._backbone()
    if not domain:  # this instance only: its own cached backbone copy
        import copy

        clone = copy.copy(backbone)
        clone.domain = None
        feat.__dict__["_lazy_backbone"] = clone
    return feat


def time_loads(model: str, repeats: int = 5) -> dict[str, float]:
    """Median seconds to load the model, with and without the sha256 check."""
    from molmtd.models import model_dir
    from molmtd.student.loading import load_student

    out = {}
    for label, fn in {
        "load, sha256-verified (load_model)": lambda: Featurizer(model=model)._backbone(),
        "load, unverified (load_student)": lambda: load_student(model_dir(model, verify=False)),
    }.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out[label] = float(np.median(times))
    return out


def time_domain_score(feat: Featurizer, smiles: list[str], repeats: int = 7) -> dict[str, float]:
    """The domain score alone vs the whole ``transform``, same rows (median seconds)."""
    X = feat.transform(smiles)
    reference = feat._backbone().domain
    whole, score = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        feat.transform(smiles)
        whole.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference.score(X)
        score.append(time.perf_counter() - start)
    return {"transform_s": float(np.median(whole)), "domain_score_s": float(np.median(score))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/trust"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    sets = {
        "aqsoldb": load_tdc_admet("solubility_aqsoldb").smiles[: args.n],
        "zinc250k": list(load_corpus("zinc250k", n=args.n, seed=1)),
    }
    feats = {name: featurizer(args.model, **cfg) for name, cfg in CONFIGS.items()}
    for feat in feats.values():
        feat.transform(sets["zinc250k"][:64])  # warm up
    rng = random.Random(0)
    rows = []
    for data, smiles in sets.items():
        for r in range(args.rounds):
            order = list(feats)
            rng.shuffle(order)
            rates = {}
            for name in order:
                start = time.perf_counter()
                feats[name].transform(smiles)
                rates[name] = len(smiles) / (time.perf_counter() - start)
            base = rates["baseline (none, no domain score)"]
            rows += [{"molecules": data, "round": r, "config": k, "mol_per_s": v,
                      "ratio_to_baseline": v / base} for k, v in rates.items()]  # fmt: skip
    table = pd.DataFrame(rows)
    summary = (
        table.groupby(["molecules", "config"])
        .agg(median_mol_per_s=("mol_per_s", "median"), median_ratio=("ratio_to_baseline", "median"),
             min_ratio=("ratio_to_baseline", "min"), max_ratio=("ratio_to_baseline", "max"))
        .round(3).reset_index()
    )  # fmt: skip
    loads = time_loads(args.model)
    alone = time_domain_score(feats["domain score"], sets["zinc250k"])
    args.out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(args.out / "trust_overhead.csv", index=False)
    ratio = alone["domain_score_s"] / alone["transform_s"]
    lines = [
        f"# Featurizer overhead of the trust features ({args.model})",
        "",
        f"Command: `python benchmarks/checks/trust_overhead.py --n {args.n} --rounds {args.rounds}`; "
        "one torch thread, n_jobs=1, paired rounds; the 2-core machine was shared with other "
        "jobs (load average above 4), so absolute rates are low and noisy, ratios less so.",
        "",
        summary.to_markdown(index=False),
        "",
        *(f"- {k}: {v * 1000:.0f} ms" for k, v in loads.items()),
        f"- domain score alone, {args.n} ZINC molecules: {alone['domain_score_s'] * 1000:.0f} "
        f"ms vs {alone['transform_s'] * 1000:.0f} ms for the whole transform ({ratio:.1%})",
    ]
    (args.out / "trust_overhead.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
