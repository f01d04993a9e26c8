"""``molmtd distill``: the command line of distillation (its parser and handler).

Single process, or DDP under ``torchrun``::

    molmtd distill --config small --store stores/nci --out runs/small [--resume]
    torchrun --nproc_per_node 2 -m molmtd.cli distill --config small --store stores/nci ...

The Python API is :mod:`molmtd.training` (``TrainConfig``, ``Distiller``, ``StoreTargets``,
``load_student``, ``embed``); this module adds the packaged-config lookup
(:func:`molmtd.training.config.resolve_config_path`) and the command-line overrides
(:func:`config_from_args`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml

from molmtd.cli.base import Subcommand
from molmtd.training.config import TrainConfig, resolve_config_path
from molmtd.training.data import StoreTargets
from molmtd.training.packed import PackedTargets
from molmtd.training.trainer import Distiller


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"--set {key}: {part!r} is not a mapping")
    node[parts[-1]] = value


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Load ``--config`` and apply the command-line overrides."""
    path = resolve_config_path(args.config)
    data = yaml.safe_load(path.read_text()) or {}
    if args.loss is not None and args.loss != data.get("loss", "nll"):
        data["loss_kwargs"] = {}  # arguments of another objective would not apply (--set may add)
    for flag, key in (
        ("loss", "loss"),
        ("epochs", "epochs"),
        ("max_steps", "max_steps"),
        ("batch_size", "batch_size"),
        ("lr", "lr"),
        ("num_workers", "num_workers"),
        ("device", "device"),
        ("seed", "seed"),
        ("store", "store"),
    ):
        value = getattr(args, flag)
        if value is not None:
            data[key] = value
    if args.teachers:
        data["teachers"] = [t for t in args.teachers.split(",") if t]
    if args.no_progress:
        data["progress"] = False
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        _set_dotted(data, key.strip(), yaml.safe_load(raw))
    return TrainConfig.from_dict(data)


class DistillCommand(Subcommand):
    """``molmtd distill --config NAME --store PATH --out RUN [--resume]``."""

    name = "distill"
    help = "distil the teachers of a store into a student network"
    description = "Distil the teachers of a TeacherStore into a student (see docs/training.md)."

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        p = parser
        p.add_argument(
            "--config", required=True, help="YAML file or packaged config name (small, default)"
        )
        p.add_argument(
            "--store",
            help="TeacherStore path, or a packed .npz (molmtd.training.packed); overrides `store:`",
        )
        p.add_argument("--out", help="run directory (default runs/<config name>)")
        p.add_argument(
            "--resume", action="store_true", help="continue from the last checkpoint in --out"
        )
        p.add_argument("--loss", choices=("nll", "beta-nll", "mse", "cosine"))
        p.add_argument("--epochs", type=int)
        p.add_argument("--max-steps", dest="max_steps", type=int)
        p.add_argument("--batch-size", dest="batch_size", type=int, help="global batch size")
        p.add_argument("--lr", type=float)
        p.add_argument("--num-workers", dest="num_workers", type=int)
        p.add_argument("--device")
        p.add_argument("--seed", type=int)
        p.add_argument("--teachers", help="comma-separated subset of the store's teachers")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override any option, dotted for nested ones (e.g. --set backbone.hidden=128)",
        )

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        cfg = config_from_args(args)
        if not cfg.store:
            raise SystemExit("no teacher store: pass --store PATH or set `store:` in the config")
        out = Path(args.out) if args.out else Path("runs") / resolve_config_path(args.config).stem
        if str(cfg.store).endswith(".npz"):  # a packed set (molmtd.training.packed)
            source = PackedTargets(cfg.store, cfg.teachers)
        else:
            source = StoreTargets(cfg.store, cfg.teachers)
        result = Distiller(cfg, source, out).fit(resume=args.resume)
        if int(os.environ.get("RANK", "0")) == 0:
            print(
                f"done: step {result.step}, best validation loss {result.best_val_loss:.4f} at step "
                f"{result.best_step}; student exported to {out / 'student'}"
            )
        return 0
