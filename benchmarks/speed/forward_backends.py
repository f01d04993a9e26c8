"""The student's forward pass, six ways: speed and distance from float32, with the CPU named.

    python benchmarks/speed/forward_backends.py --n 2000 --threads 2 --rounds 5 [--model NAME] [--no-compile]

Same batches (``--batch-size`` molecules, MOSES test set) for every variant: torch float32
(the reference), torch under bfloat16 autocast, torch with int8 dynamic quantisation of the
linear layers (``torch.ao.quantization.quantize_dynamic``), ``torch.compile`` (inductor,
dynamic shapes; its compile time is reported apart), ONNX Runtime float32 (the
``molmtd.student.onnx`` graph) and ONNX Runtime with int8 dynamic quantisation. Variants are timed
in turn within each round, ``--rounds`` rounds, so machine load hits them alike; each row
gives the median time, the speed-up over float32 in the same rounds (median of per-round
ratios) and the rows' relative L2 distance from float32 (median and max over molecules).
Appends to ``benchmarks/results/speed/forward_backends.csv``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molmtd.backbones.features import batch_graphs, smiles_to_graph
from molmtd.cpu import add_machine_columns, append_csv, cpu_summary
from molmtd.data.corpus import load_corpus
from molmtd.models import model_dir
from molmtd.precision import quantise_int8
from molmtd.student.loading import load_student
from molmtd.student.onnx import OnnxStudent, export_onnx, onnx_inputs

Runner = Callable[[], np.ndarray]


def torch_runner(module: torch.nn.Module, batches: list, bfloat16: bool = False) -> Runner:
    def run() -> np.ndarray:
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bfloat16):
            return np.concatenate([module(b).float().numpy() for b in batches])

    return run


def onnx_runner(path: Path, inputs: list[dict[str, np.ndarray]], threads: int) -> Runner:
    student = OnnxStudent(path, threads=threads)
    return lambda: np.concatenate([student.run_inputs(i) for i in inputs])


def variants(backbone: torch.nn.Module, graphs: list, args: argparse.Namespace) -> dict:
    """name -> (runner, seconds spent preparing it)."""
    size = args.batch_size
    chunks = [graphs[i : i + size] for i in range(0, len(graphs), size)]
    batches = [batch_graphs(c) for c in chunks]
    inputs = [onnx_inputs(c, backbone.rw_steps) for c in chunks]
    out: dict[str, tuple[Runner, float]] = {
        "torch float32 (reference)": (torch_runner(backbone, batches), 0.0),
        "torch bfloat16 autocast": (torch_runner(backbone, batches, bfloat16=True), 0.0),
    }
    start = time.perf_counter()
    quantised = quantise_int8(backbone)
    out["torch int8 dynamic quantisation (linear layers)"] = (
        torch_runner(quantised, batches),
        time.perf_counter() - start,
    )
    if args.compile:
        start = time.perf_counter()
        compiled = torch.compile(backbone, dynamic=True)
        runner = torch_runner(compiled, batches)
        runner()  # compiles (and recompiles for the shapes it meets)
        out["torch.compile (inductor, dynamic)"] = (runner, time.perf_counter() - start)
    folder = Path(tempfile.mkdtemp(prefix="molmtd_onnx_"))
    start = time.perf_counter()
    path = export_onnx(backbone, folder / "student.onnx")
    out["ONNX Runtime float32, 1 thread"] = (
        onnx_runner(path, inputs, 1),
        time.perf_counter() - start,
    )
    if args.threads > 1:  # rows wrong: ORT's parallel scatter-add races (see OnnxStudent)
        out[f"ONNX Runtime float32, {args.threads} threads"] = (
            onnx_runner(path, inputs, args.threads),
            0.0,
        )
    from onnxruntime.quantization import QuantType, quantize_dynamic

    start = time.perf_counter()
    int8 = folder / "student.int8.onnx"
    quantize_dynamic(str(path), str(int8), weight_type=QuantType.QInt8)
    out["ONNX Runtime int8 dynamic quantisation, 1 thread"] = (
        onnx_runner(int8, inputs, 1),
        time.perf_counter() - start,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="default")
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/speed/forward_backends.csv")
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    name = model_dir(args.model, verify=False).name
    backbone = load_student(model_dir(name)).eval()
    smiles = list(load_corpus("moses-test", n=args.n, seed=1))
    graphs = [smiles_to_graph(s) for s in smiles]
    runs = variants(backbone, graphs, args)
    rows_of = {k: run() for k, (run, _) in runs.items()}  # warm-up and the rows check
    times: dict[str, list[float]] = {k: [] for k in runs}
    loads = []
    for _ in range(args.rounds):
        for key, (run, _) in runs.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
            print(f"{key}: {times[key][-1]:.2f} s", flush=True)
        loads.append(os.getloadavg()[0])
    reference = "torch float32 (reference)"
    exact = rows_of[reference]
    table = []
    for key, (_, prep) in runs.items():
        relative = np.linalg.norm(rows_of[key] - exact, axis=1) / np.linalg.norm(exact, axis=1)
        ratio = np.array(times[reference]) / np.array(times[key])
        table.append(
            {
                "variant": key,
                "seconds_median": float(np.median(times[key])),
                "mol_per_s": args.n / float(np.median(times[key])),
                "speedup_vs_float32": float(np.median(ratio)),
                "relative_l2_median": float(np.median(relative)),
                "relative_l2_max": float(relative.max()),
                "within_1e-3": bool(relative.max() <= 1e-3),
                "prepare_seconds": prep,
            }
        )
    frame = pd.DataFrame(table)
    frame["model"] = name
    frame["n"] = args.n
    frame["threads"] = args.threads
    frame["batch_size"] = args.batch_size
    frame["rounds"] = args.rounds
    add_machine_columns(frame, loads)
    print(f"CPU: {cpu_summary()}; torch {torch.__version__}, {args.threads} threads")
    print(f"load average (1 min) over the rounds: {[round(x, 2) for x in loads]}")
    columns = ["variant", "mol_per_s", "speedup_vs_float32", "relative_l2_max", "prepare_seconds"]
    print(frame[columns].to_markdown(index=False, floatfmt=".3g"))
    append_csv(frame, args.out)


if __name__ == "__main__":
    main()
