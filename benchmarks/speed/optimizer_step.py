"""AdamW step time, fused kernel vs per-tensor loop, on the default model's real parameters.

Builds the student backbone and the beta-NLL kernel heads of the shipped default model
(``molmtd/models/<default>/card.json``: backbone config and the 16 teacher widths), gives
every parameter a random gradient and times ``optimizer.step()`` with
``torch.optim.AdamW(fused=True)`` (what :func:`molmtd.training.optim.adamw` picks where
torch has it) against the default implementation. Appends to
``benchmarks/results/speed/optimizer_step.csv``::

    .venv/bin/python benchmarks/speed/optimizer_step.py [--steps 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from molmtd.backbones.base import build_backbone
from molmtd.loss import build_loss
from molmtd.models import default_model_name, model_dir

RESULTS = Path(__file__).resolve().parents[1] / "results" / "speed" / "optimizer_step.csv"


def step_ms(params: list[torch.nn.Parameter], steps: int, **kwargs: bool) -> float:
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, **kwargs)
    opt.step()  # allocates the state outside the timing
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return (time.perf_counter() - start) / steps * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    name = default_model_name()
    card = json.loads((model_dir(name) / "card.json").read_text())
    backbone = build_backbone(card["backbone"])
    dims = {k: int(v["dim"]) for k, v in card["teachers"].items()}
    heads = build_loss("beta-nll", backbone.dim, dims)
    params = [p for p in [*backbone.parameters(), *heads.parameters()] if p.requires_grad]
    for p in params:
        p.grad = torch.randn_like(p)
    n = sum(p.numel() for p in params)
    loop = step_ms(params, args.steps)
    fused = step_ms(params, args.steps, fused=True)
    row = {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": name,
        "n_parameters": n,
        "torch": torch.__version__,
        "torch_threads": args.threads,
        "loadavg_1min": round(os.getloadavg()[0], 2),
        "loop_ms": round(loop, 1),
        "fused_ms": round(fused, 1),
        "speedup": round(loop / fused, 2),
    }
    print(row)
    new = not RESULTS.exists()
    with RESULTS.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
