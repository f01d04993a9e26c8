"""Where a running training step spends its time: sample one rank with py-spy, sum by stage.

    python benchmarks/speed/profile_training.py --pid PID --seconds 60 \\
        --out benchmarks/results/speed/profile_training.csv

``PID`` is one rank of a running ``molmtd distill`` (``pgrep -f "molmtd.cli distill"``; under
torchrun pick a child, not the launcher). py-spy (``pip install py-spy``) samples its Python
stacks at 100 Hz without stopping it (``--nonblocking``), and each sample is charged to the
first stage of :data:`STAGES` whose frames all appear in its stack. The stages follow the
trainer's step: loading and collating the batch (graphs from the store's RDKit binary
records), the forward pass (random-walk features, GINE layers, readout, projection heads and
loss), the backward pass (which includes DDP's gradient all-reduce, run in its hooks), the
optimizer step. py-spy sees Python frames: time in a torch kernel is charged to the Python
call that launched it. Writes one row per stage (samples, share) with the date and load.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

# (stage, patterns): a sample is charged to the first stage from the top with a pattern whose
# substrings are all in its stack.
STAGES: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("validation and checkpoints", (("Distiller._validate",), ("Distiller._checkpoint",))),
    ("backward pass (DDP's all-reduce runs in its hooks)", (("Tensor.backward",),)),
    ("optimizer step and clipping", (("optim/",), ("clip_grad",))),
    ("DDP buffer sync before forward", (("_sync_module_buffers",),)),
    ("data: store read, graphs, collate", (("dataloader.py",),)),
    ("forward: random-walk features", (("random_walk_return_probs",),)),
    ("forward: projection heads and loss", (("molmtd/loss.py",),)),
    ("forward: GINE MLPs (Linear)", (("GINEConv.forward", "Linear.forward"),)),
    ("forward: GINE messages and aggregation", (("GINEConv.forward",),)),
    ("forward: readout", (("MolGNN._pool",),)),
    ("forward: encoders, norms, projection", (("MolGNN.forward",),)),
)


def stage_of(stack: str) -> str:
    """The stage a collapsed stack (``frame;frame;...``) is charged to."""
    for stage, patterns in STAGES:
        if any(all(n in stack for n in needles) for needles in patterns):
            return stage
    return "other"


def record(pid: int, seconds: int, rate: int) -> list[tuple[str, int]]:
    """py-spy's collapsed stacks of ``pid`` over ``seconds``: ``[(stack, samples), ...]``."""
    exe = shutil.which("py-spy")
    if exe is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stacks.txt"
        cmd = [exe, "record", "--pid", str(pid), "--duration", str(seconds), "--rate",
               str(rate), "--format", "raw", "--nonblocking", "--output", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)
        rows = []
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                rows.append((stack, int(count)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--note", default="", help="what was running (config, ranks, threads)")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/speed/profile_training.csv")
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    stacks = record(args.pid, args.seconds, args.rate)
    samples: collections.Counter[str] = collections.Counter()
    for stack, count in stacks:
        samples[stage_of(stack)] += count
    total = sum(samples.values())
    table = pd.DataFrame(
        [{"stage": s, "samples": n, "share": n / total} for s, n in samples.most_common()]
    )
    table["seconds_sampled"] = args.seconds
    table["rate_hz"] = args.rate
    table["load_avg_1m"] = round((load_before + os.getloadavg()[0]) / 2, 2)
    table["note"] = args.note
    table["date"] = time.strftime("%Y-%m-%dT%H:%M%z")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.4g")
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
