"""The CLI's default thread setting against fixed ones, on an idle and on a busy machine.

    python benchmarks/checks/threads_busy.py --rounds 2

Times ``molmtd featurize`` end to end (a fresh process, as a user runs it) on 1,000 NCI
molecules (one-shot, .parquet) and on all 5,000 streamed (``--chunk-rows 1000``), with the
default options (``--n-jobs auto --threads auto``) and with fixed settings: one thread, two
threads, two processes. "Busy" is another job running beside it: a process multiplying
matrices on two torch threads (as a training run does), started before and stopped after
each timing. Settings run in a shuffled order each round; the table keeps each setting's
best time over the rounds. Run it on an otherwise quiet machine (pause other jobs): the
"idle" rows assume nothing else runs.

Writes ``threads_busy.csv`` and ``threads_busy.md`` under ``--out``: per condition and
input, each setting's seconds and the default's ratio to the best setting (goal: <= 1.5).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from molmtd.cpu import cpu_summary
from molmtd.data.paths import package_file

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {
    "default (auto)": [],
    "1 thread": ["--n-jobs", "1", "--threads", "1"],
    "2 threads": ["--n-jobs", "1", "--threads", "2"],
    "2 processes": ["--n-jobs", "2", "--threads", "1"],
}
BURNER = (
    "import torch\n"
    "torch.set_num_threads(2)\n"
    "a = torch.randn(1500, 1500)\n"
    "while True:\n"
    "    a = (a @ a).tanh()\n"
)


def run(src: Path, out: Path, extra: list[str]) -> float:
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "molmtd", "featurize", str(src), "-o", str(out),
           "--precision", "float32", *extra]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("runs/threads_busy"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/trust"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    lines = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().splitlines()
    small, large = args.work / "nci1000.smi", args.work / "nci5000.smi"
    small.write_text("\n".join(lines[:1000]) + "\n")
    large.write_text("\n".join(lines) + "\n")
    inputs = {
        "1,000 one-shot": (small, args.work / "o.parquet", []),
        "5,000 streamed": (large, args.work / "s.parquet", ["--chunk-rows", "1000"]),
    }
    rng = random.Random(0)
    rows = []
    for condition in ("idle", "busy"):
        for r in range(args.rounds):
            order = [(i, s) for i in inputs for s in SETTINGS]
            rng.shuffle(order)
            for input_name, setting in order:
                src, out, extra = inputs[input_name]
                burner = None
                if condition == "busy":
                    burner = subprocess.Popen([sys.executable, "-c", BURNER])
                    time.sleep(2.0)  # let it reach full speed
                try:
                    seconds = run(src, out, [*extra, *SETTINGS[setting]])
                finally:
                    if burner is not None:
                        burner.kill()
                        burner.wait()
                rows.append({"condition": condition, "input": input_name, "setting": setting,
                             "round": r, "seconds": round(seconds, 2)})  # fmt: skip
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "threads_busy.csv", index=False)
    best = table.groupby(["condition", "input", "setting"])["seconds"].min().unstack("setting")
    best = best[list(SETTINGS)]
    best["default / best"] = best["default (auto)"] / best.min(axis=1)
    text = (
        f"# The default thread setting, idle and busy ({cpu_summary()})\n\n"
        f"`python benchmarks/checks/threads_busy.py --rounds {args.rounds}`: seconds end to end "
        "(process start included), best of the rounds; busy = a 2-thread matrix job beside it.\n\n"
        + best.round(2).to_markdown()
        + "\n"
    )
    (args.out / "threads_busy.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
