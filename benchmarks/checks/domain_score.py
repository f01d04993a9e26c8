"""Does the domain score track downstream error? Held-out error by score quantile.

    MOLMTD_DATA_DIR=/work/shared/data python benchmarks/checks/domain_score.py \
        --tasks caco2_wang,lipophilicity_astrazeneca,solubility_aqsoldb,ld50_zhu

For each TDC ADMET regression task: embed every row with the student (``Featurizer``), fit
the benchmark's MLP head (``make_head("mlp", quick=True)``, seed 1) on the TDC scaffold
train split, select on its valid split, and predict the official test set once. Each test
molecule gets several candidate out-of-domain scores:

- ``corpus_knn``: mean distance to the 5 nearest of ``--n-reference`` embeddings of the
  student's pre-training corpus (ZINC250k sample; shippable, needs no task data), raw
  embedding space;
- ``corpus_knn_pca``: the same after projecting onto the corpus sample's 32 leading
  principal components (cheaper);
- ``corpus_knn_cosine``: the same on L2-normalised embeddings;
- ``shipped``: ``Featurizer.domain_score_`` from the model's ``domain.safetensors``, when it
  ships one;
- ``train_knn`` (reference point, needs the task's training set): mean distance to the 5
  nearest training molecules in embedding space;
- ``train_tanimoto``: 1 - the largest ECFP4 Tanimoto similarity to a training molecule.

Per task and candidate: Spearman correlation of score and absolute test error, and the mean
absolute error in each score quintile (Q1 = most in-domain). Writes ``domain_score.csv``,
``domain_score.md`` and ``domain_score.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from molmtd.data.corpus import load_corpus
from molmtd.data.datasets import load_tdc_admet
from molmtd.domain import DomainReference, _knn_mean_distance
from molmtd.evaluate.heads import Standardizer, make_head
from molmtd.featurizer import Featurizer

QUINTILES = 5


def tanimoto_distance(test: list[str], train: list[str]) -> np.ndarray:
    """1 - max ECFP4 (2048 bits) Tanimoto similarity of each test molecule to ``train``."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in train]
    return np.array(
        [1 - max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(Chem.MolFromSmiles(s)), fps))
         for s in test]
    )  # fmt: skip


def candidates(
    X: np.ndarray, idx: dict[str, np.ndarray], smiles: list[str], corpus: np.ndarray,
    feat: Featurizer, test_shipped: np.ndarray | None,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Every candidate score of the test rows."""
    test, train = X[idx["test"]], X[idx["train"]]
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    out = {
        "corpus_knn": DomainReference.build(corpus, k=5).score(test),
        "corpus_knn_pca": DomainReference.build(corpus, k=5, components=32).score(test),
        "corpus_knn_cosine": DomainReference.build(unit(corpus), k=5).score(unit(test)),
        "train_knn": _knn_mean_distance(test, train, 5),
        "train_tanimoto": tanimoto_distance(
            [smiles[i] for i in idx["test"]], [smiles[i] for i in idx["train"]]
        ),
    }
    if test_shipped is not None:
        out["shipped"] = test_shipped
    return out


def quintile_errors(score: np.ndarray, err: np.ndarray) -> list[float]:
    """Mean absolute error in each score quintile, most in-domain first."""
    order = np.argsort(score, kind="stable")
    return [float(err[part].mean()) for part in np.array_split(order, QUINTILES)]


def run_task(name: str, feat: Featurizer, corpus: np.ndarray, seed: int) -> list[dict]:
    task = load_tdc_admet(name)
    X = feat.transform(task.smiles)
    shipped = getattr(feat, "domain_score_", None)
    mask = feat.valid_mask_ & np.isfinite(task.y[:, 0])
    split = {k: v[mask[v]] for k, v in task.split(seed).items()}
    y = task.y[:, :1]
    std = Standardizer().fit(X[split["train"]], mask[split["train"]])
    Z = std.transform(X, mask)
    head = make_head("mlp", task.task_type, seed=seed, quick=True)
    head.fit(Z[split["train"]], y[split["train"]], Z[split["valid"]], y[split["valid"]])
    pred = np.asarray(head.predict(Z[split["test"]])).reshape(-1)
    err = np.abs(pred - y[split["test"], 0])
    test_shipped = None if shipped is None or np.isnan(shipped).all() else shipped[split["test"]]
    rows = []
    for cand, score in candidates(X, split, task.smiles, corpus, feat, test_shipped).items():
        q = quintile_errors(score, err)
        rows.append({
            "task": name, "candidate": cand, "n_test": len(err), "test_mae": float(err.mean()),
            "spearman": float(spearmanr(score, err).statistic),
            **{f"q{i + 1}_mae": v for i, v in enumerate(q)}, "q5_over_q1": q[-1] / q[0],
        })  # fmt: skip
    return rows


def plot(table: pd.DataFrame, path: Path, model: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(table["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4 * len(tasks), 3.4), squeeze=False)
    qcols = [f"q{i + 1}_mae" for i in range(QUINTILES)]
    for ax, task in zip(axes[0], tasks):
        sub = table[table["task"] == task]
        for _, row in sub.iterrows():
            style = "-o" if row["candidate"] in ("shipped", "corpus_knn") else "--."
            ax.plot(range(1, QUINTILES + 1), row[qcols].to_numpy(float), style,
                    label=f"{row['candidate']} (rho {row['spearman']:.2f})")  # fmt: skip
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("domain-score quintile (1 = most in-domain)")
        ax.set_ylabel("test MAE")
        ax.legend(fontsize=6)
    fig.suptitle(
        f"Held-out error by domain-score quintile ({model}, MLP head, seed 1)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--tasks", default="caco2_wang,lipophilicity_astrazeneca,solubility_aqsoldb,ld50_zhu"
    )
    p.add_argument("--model", default="default")
    p.add_argument("--n-reference", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/domain_score"))
    args = p.parse_args(argv)
    start = time.perf_counter()
    feat = Featurizer(model=args.model, on_error="nan")
    # Seeded permutation of ZINC250k: the first n of the same visit order as the
    # pre-training subset (load_corpus("zinc250k", n=200000, seed=0)).
    corpus_smiles = list(load_corpus("zinc250k", n=args.n_reference, seed=0))
    corpus = feat.transform(corpus_smiles)
    print(f"corpus sample embedded ({time.perf_counter() - start:.0f} s)", flush=True)
    rows = []
    for name in args.tasks.split(","):
        rows += run_task(name, feat, corpus, args.seed)
        print(pd.DataFrame(rows).tail(6).round(3).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.round(4).to_csv(args.out / "domain_score.csv", index=False)
    plot(table, args.out / "domain_score.png", str(args.model))
    summary = table.groupby("candidate")[["spearman", "q5_over_q1"]].mean().round(3)
    minutes = (time.perf_counter() - start) / 60
    text = (
        f"# Domain score vs held-out error ({args.model}: {feat.provenance_['model']}, "
        f"weights sha256 {feat.provenance_['weights_sha256'][:12]})\n\n"
        f"Command: `python benchmarks/checks/domain_score.py --tasks {args.tasks} --model {args.model} "
        f"--n-reference {args.n_reference} --seed {args.seed}`; {minutes:.1f} min on 2 shared, "
        f"loaded CPU cores.\n\n## Per task\n\n{table.round(3).to_markdown(index=False)}\n\n"
        f"## Mean over tasks\n\n{summary.to_markdown()}\n"
    )
    (args.out / "domain_score.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
