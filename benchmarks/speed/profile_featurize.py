"""Where the student's featurisation time goes, stage by stage, beside ECFP4, with the CPU named.

    python benchmarks/speed/profile_featurize.py --n 2000 --threads 2 --rounds 5 [--model NAME]

One process, ``--threads`` torch threads. Each round times, one after another on the same
molecules: RDKit parsing, graph featurisation as ``Featurizer`` does it (binary records decoded
in chunks of 256 by :func:`molmtd.backbones.features.mols_to_graphs`), collation into batches
of ``--batch-size``, the forward pass (in the precision ``Featurizer``'s default "auto" picks
here); then, for comparison, the per-atom featuriser used before (``mol_to_graph`` one
molecule at a time) and a bare walk over RDKit's atom and bond objects (the floor of any
featuriser that reads RDKit from Python); the whole ``Featurizer.transform`` (n_jobs=1; and
with each of ``--backends``) and ECFP4 counts (2048 bits, parsing included). Rounds alternate the stages so that load from other processes hits all
of them alike; the table reports each stage's median over rounds, its share of the
student's time, and ratios to ECFP4. Results are appended to
``benchmarks/results/speed/profile_featurize.csv`` with the CPU model, its flags and the load.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molmtd.backbones.features import (
    batch_graphs,
    canonical_mol,
    canonical_mol_to_graph,
    mols_to_graphs,
)
from molmtd.cpu import add_machine_columns, append_csv, cpu_summary
from molmtd.data.corpus import load_corpus
from molmtd.featurizer import Featurizer
from molmtd.models import model_dir
from molmtd.teachers import get_teacher
from molmtd.utils import rdkit_quiet


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def wrappers(mols: list[object]) -> None:
    """Visit every atom and bond object and read nothing: what any featuriser that asks
    RDKit per atom from Python pays before reading a single feature."""
    for mol in mols:
        for _ in mol.GetAtoms():
            pass
        for _ in mol.GetBonds():
            pass


def batched_graphs(mols: list[object], smiles: list[str], chunk: int = 256) -> list[object]:
    """Graphs as ``Featurizer`` makes them: canonical molecules, decoded ``chunk`` at a time."""
    canonical = [canonical_mol(m, s) for m, s in zip(mols, smiles)]
    return [g for i in range(0, len(mols), chunk) for g in mols_to_graphs(canonical[i : i + chunk])]


def stages(smiles: list[str], model: str, batch_size: int) -> dict[str, Callable[[], object]]:
    """The timed stages, each a closure over the previous stage's (untimed) output."""
    from rdkit import Chem

    featurizer = Featurizer(model=model, batch_size=batch_size, n_jobs=1)
    featurizer.transform(smiles[:64])  # load weights, warm up
    backbone = featurizer._backbone()
    morgan = get_teacher("morgan", log1p=False)
    with rdkit_quiet():
        mols = [Chem.MolFromSmiles(s) for s in smiles]
    graphs = [canonical_mol_to_graph(m, s) for m, s in zip(mols, smiles)]
    assert all(isinstance(g, dict) for g in batched_graphs(mols, smiles))
    chunks = [graphs[i : i + batch_size] for i in range(0, len(graphs), batch_size)]
    batches = [batch_graphs(c) for c in chunks]

    def forward() -> None:
        with torch.inference_mode(), featurizer._autocast(torch.device("cpu")):
            for batch in batches:
                backbone(batch)

    def parse() -> None:
        with rdkit_quiet():
            [Chem.MolFromSmiles(s) for s in smiles]

    return {
        "parse (RDKit MolFromSmiles)": parse,
        "graph featurisation": lambda: batched_graphs(mols, smiles),
        "collate": lambda: [batch_graphs(c) for c in chunks],
        "forward pass": forward,
        "graph featurisation, per atom (mol_to_graph, before issue 19)": lambda: [
            canonical_mol_to_graph(m, s) for m, s in zip(mols, smiles)
        ],
        "RDKit atom+bond wrappers only (floor of a Python featuriser)": lambda: wrappers(mols),
        "Featurizer.transform end to end (n_jobs=1)": lambda: featurizer.transform(smiles),
        "ECFP4 counts (2048), parse included": lambda: morgan.embed(smiles),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=Featurizer().batch_size)
    parser.add_argument("--model", default="default")
    parser.add_argument(
        "--backends",
        nargs="*",
        default=[],
        choices=["compile", "onnx"],
        help="also time Featurizer.transform with these backends (after their warm-up)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/speed/profile_featurize.csv")
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    smiles = list(load_corpus("moses-test", n=args.n, seed=1))
    name = model_dir(args.model, verify=False).name
    timed = stages(smiles, name, args.batch_size)
    for backend in args.backends:
        other = Featurizer(model=name, batch_size=args.batch_size, n_jobs=1, backend=backend)
        other.transform(smiles)  # export / compile, warm up
        timed[f"Featurizer.transform end to end (n_jobs=1), backend={backend}"] = lambda f=other: (
            f.transform(smiles)
        )
    times: dict[str, list[float]] = {k: [] for k in timed}
    loads = []
    for _ in range(args.rounds):
        for key, fn in timed.items():
            times[key].append(seconds(fn))
        loads.append(os.getloadavg()[0])
    median = {k: float(np.median(v)) for k, v in times.items()}
    student = sum(median[k] for k in list(timed)[:4])
    ecfp = median["ECFP4 counts (2048), parse included"]
    end_to_end = median["Featurizer.transform end to end (n_jobs=1)"]
    rows = [
        {
            "stage": key,
            "seconds_median": sec,
            "seconds_min": min(times[key]),
            "mol_per_s": args.n / sec,
            "share_of_student_stages": sec / student if i < 4 else np.nan,
            "x_ecfp4_time": sec / ecfp,
        }
        for i, (key, sec) in enumerate(median.items())
    ]
    table = pd.DataFrame(rows)
    table["model"] = name
    table["precision"] = Featurizer(model=name).precision_
    table["n"] = args.n
    table["threads"] = args.threads
    table["batch_size"] = args.batch_size
    table["rounds"] = args.rounds
    table["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    add_machine_columns(table, loads)
    print(f"CPU: {cpu_summary()}; torch {torch.__version__}, {args.threads} threads")
    print(f"load average (1 min) over the rounds: {[round(x, 2) for x in loads]}")
    print(
        table[
            ["stage", "seconds_median", "mol_per_s", "share_of_student_stages", "x_ecfp4_time"]
        ].to_markdown(index=False, floatfmt=".3g")
    )
    print(
        f"sum of student stages / ECFP4: {student / ecfp:.2f}x; "
        f"end to end / ECFP4: {end_to_end / ecfp:.2f}x"
    )
    old = median["graph featurisation, per atom (mol_to_graph, before issue 19)"]
    print(
        f"graph featurisation: batched records {old / median['graph featurisation']:.2f}x faster than per atom"
    )
    append_csv(table, args.out)


if __name__ == "__main__":
    main()
