"""Which output of a trained student makes the better downstream features (TDC validation)?

A distilled student has two outputs: its embedding (what ``Featurizer`` returns) and, in the
training checkpoint only, one projection head per teacher (Linear-ReLU-Linear for MSE) that
predicts the teacher's standardised embedding from it. The heads are a non-linear map learned
on the whole corpus; on a small task the MLP head may not learn it from the embedding alone.
This scores three feature sets of one checkpoint on the same tasks, seeds, head and protocol
as ``molmtd benchmark`` (validation scores decide; test scores are recorded, not used):

- ``embedding``: the student's embedding (the shipped representation);
- ``teachers``: the heads' predicted teacher embeddings, concatenated;
- ``embedding+teachers``: both.

Usage::

    python benchmarks/checks/head_features.py --checkpoint runs/long27/checkpoints/step-00023190 \\
        --tasks caco2_wang,lipophilicity_astrazeneca --seeds 3 --out benchmarks/results/head_features
    python benchmarks/tools/valid_ranks.py benchmarks/results/head_features/results_mlp.csv \\
        --reps embedding,teachers,embedding+teachers

Resumable: rows already in ``OUT/results_mlp.csv`` are skipped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.numpy import load_file

from molmtd.data.datasets import load_task
from molmtd.evaluate.protocol import run_one
from molmtd.featurizer import Featurizer

FEATURES = ("embedding", "teachers", "embedding+teachers")


def head_predictions(checkpoint: Path, embedding: np.ndarray) -> np.ndarray:
    """Every teacher head's prediction from ``embedding`` [N, d], concatenated [N, sum d_k]."""
    weights = load_file(str(checkpoint / "model.safetensors"))
    teachers = sorted({k.split(".")[2] for k in weights if k.startswith("loss.heads.")})
    if not teachers:
        raise SystemExit(f"{checkpoint} holds no projection heads (a shipped model keeps none)")
    out = []
    for t in teachers:
        w0, b0 = weights[f"loss.heads.{t}.0.weight"], weights[f"loss.heads.{t}.0.bias"]
        w2, b2 = weights[f"loss.heads.{t}.2.weight"], weights[f"loss.heads.{t}.2.bias"]
        hidden = np.maximum(embedding @ w0.T + b0, 0.0)
        out.append(hidden @ w2.T + b2)
    return np.concatenate(out, axis=1).astype(np.float32)


def features(checkpoint: Path, smiles: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three feature sets of ``smiles`` with their validity mask."""
    featurizer = Featurizer(model=checkpoint, precision="float32", on_error="nan")
    emb = np.asarray(featurizer.transform(smiles), dtype=np.float32)
    mask = np.isfinite(emb).all(axis=1)
    valid_pred = head_predictions(checkpoint, emb[mask])
    pred = np.full((len(smiles), valid_pred.shape[1]), np.nan, dtype=np.float32)
    pred[mask] = valid_pred
    return {
        "embedding": (emb, mask),
        "teachers": (pred, mask),
        "embedding+teachers": (np.concatenate([emb, pred], axis=1), mask),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--tasks", required=True, help="comma-separated TDC ADMET tasks")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--head", default="mlp")
    parser.add_argument(
        "--features", default=",".join(FEATURES), help=f"comma-separated, of {', '.join(FEATURES)}"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"results_{args.head}.csv"
    done = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=["task", "rep", "seed"])
    keys = set(zip(done["task"], done["rep"], done["seed"].astype(int), strict=True))
    wanted = args.features.split(",")
    unknown = sorted(set(wanted) - set(FEATURES))
    if unknown:
        parser.error(f"unknown --features {unknown}; choose from {', '.join(FEATURES)}")
    for name in args.tasks.split(","):
        seeds = range(1, args.seeds + 1)
        if all((name, f, s) in keys for f in wanted for s in seeds):
            continue
        task = load_task("tdc-admet", name)
        sets = features(args.checkpoint, list(task.smiles))
        for feature in wanted:
            X, mask = sets[feature]
            for seed in seeds:
                if (name, feature, seed) in keys:
                    continue
                res = run_one(task, X, mask, args.head, seed)
                row = {"suite": "tdc-admet", "task": name, "rep": feature, "head": args.head,
                       "seed": seed, **res, "checkpoint": str(args.checkpoint)}  # fmt: skip
                pd.DataFrame([row]).to_csv(path, mode="a", header=not path.is_file(), index=False)
                print(f"{name} {feature} seed={seed} valid {res['valid_score']:.4f} "
                      f"test {res['score']:.4f}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
