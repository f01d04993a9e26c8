"""Kill soak: ``molmtd featurize --chunk-rows`` killed with SIGKILL at random moments, then rerun.

    python benchmarks/checks/kill_soak.py --kills 50 --chunk-rows 250 --seed 0

RDKit's 5,000 NCI molecules, the default model, a streamed CSV (and, with ``--format
parquet``, a parquet file). A clean run writes the reference; then one output is attacked:
each round starts the real command line in a fresh process and sends it SIGKILL after a
random delay drawn uniformly from [0, 1.2 x the clean run's wall time], so the kills land
before the model loads, between and inside parts, inside the join and after the end. After
every kill the target must be absent or byte-identical to the reference (never a partial
file); after the last kill one rerun must write exactly the reference. Takes about
``kills x (process start + run)``: ~6 min for 50 kills on 2 cores.

Writes ``kill_soak.csv`` (one row per kill: delay, where the output stood) and
``kill_soak.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from molmtd.data.paths import package_file

ROOT = Path(__file__).resolve().parents[2]


def command(src: Path, out: Path, chunk_rows: int) -> list[str]:
    return [sys.executable, "-m", "molmtd", "featurize", str(src), "-o", str(out),
            "--chunk-rows", str(chunk_rows), "--precision", "float32"]  # fmt: skip


def same(out: Path, reference: Path) -> bool:
    if out.suffix == ".parquet":
        return pq.read_table(out).equals(pq.read_table(reference))
    return out.read_bytes() == reference.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=250)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("runs/kill_soak"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/trust"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    src = package_file("rdkit", "Data/NCI/first_5K.smi")
    reference = args.work / f"reference.{args.format}"
    target = args.work / f"attacked.{args.format}"
    for path in (reference, target):
        path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(command(src, reference, args.chunk_rows), check=True, cwd=ROOT,
                   capture_output=True)  # fmt: skip
    clean_seconds = time.perf_counter() - t0
    rng = random.Random(args.seed)
    rows = []
    for k in range(args.kills):
        if target.exists():  # a round that finished: start the next from nothing
            target.unlink()
        delay = rng.uniform(0.0, 1.2 * clean_seconds)
        proc = subprocess.Popen(command(src, target, args.chunk_rows), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        proc.kill()
        proc.wait()
        parts = target.with_name(target.name + ".parts")
        state = "complete" if target.exists() else "absent"
        ok = state == "absent" or same(target, reference)
        rows.append({"kill": k, "delay_s": round(delay, 2), "returncode": proc.returncode,
                     "output": state, "parts_on_disk": len(list(parts.glob("part-*.parquet"))),
                     "output_ok": ok})  # fmt: skip
        print(f"kill {k}: after {delay:.1f}s, output {state}, ok={ok}", flush=True)
    if target.exists():
        target.unlink()
    # the rerun after the last kill resumes from whatever parts are on disk
    subprocess.run(command(src, target, args.chunk_rows), check=True, cwd=ROOT,
                   capture_output=True)  # fmt: skip
    final_ok = same(target, reference)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "kill_soak.csv", index=False)
    killed = int((table["returncode"] != 0).sum())
    text = (
        f"# Kill soak ({args.format}, chunks of {args.chunk_rows}, seed {args.seed})\n\n"
        f"`python benchmarks/checks/kill_soak.py --kills {args.kills} --chunk-rows {args.chunk_rows} "
        f"--format {args.format} --seed {args.seed}`\n\n"
        f"- clean run: {clean_seconds:.1f} s; kills at uniform random delays in "
        f"[0, {1.2 * clean_seconds:.1f}] s\n"
        f"- {killed} of {len(table)} processes died by SIGKILL (the others had finished)\n"
        f"- outputs after a kill: {int((table['output'] == 'absent').sum())} absent, "
        f"{int((table['output'] == 'complete').sum())} complete; partial or wrong: "
        f"{int((~table['output_ok']).sum())}\n"
        f"- rerun after the last kill equals the clean run byte for byte: {final_ok}\n"
    )
    (args.out / "kill_soak.md").write_text(text)
    print(text)
    if not final_ok or not table["output_ok"].all():
        sys.exit(1)


if __name__ == "__main__":
    main()
