"""Modality-agnostic multi-teacher distillation trainer (single process or DDP via torchrun).

The trainer knows nothing about molecules: a backbone turns raw items into embeddings
(``collate`` + ``forward``), a target source gives the teachers' embeddings of each row,
and a :mod:`molmtd.loss` objective ties them together.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from molmtd.backbones.base import build_backbone
from molmtd.loss import build_loss, infer_likelihoods
from molmtd.training.checkpoint import (
    CheckpointManager,
    export_student,
    git_commit,
    load_checkpoint,
    model_tensors,
    split_tensors,
)
from molmtd.training.config import TrainConfig
from molmtd.training.data import BatchDataset, EpochBatches, TargetSource, split_indices, to_device
from molmtd.training.logs import CsvLog, plot_curves
from molmtd.utils import atomic_write_text, seed_everything, write_json


def _adamw(params: Iterable[nn.Parameter], **kwargs: Any) -> torch.optim.AdamW:
    """AdamW with the fused kernel where torch has it for the device (CPU from torch 2.4).

    The kernel heads hold most of the parameters (23M of 24.6M for the default model's 16
    teachers), and on CPU the fused step is several times faster than the per-tensor loop
    (``benchmarks/optimizer_step.py``).
    """
    params = list(params)
    try:
        return torch.optim.AdamW(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(params, **kwargs)


class DistillModule(nn.Module):
    """Backbone + loss heads as one module (what DDP wraps)."""

    def __init__(self, backbone: nn.Module, loss_fn: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.loss_fn = loss_fn

    def forward(self, batch: Any, targets: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]):
        return self.loss_fn(self.backbone(batch), targets, masks)


class WarmupCosine:
    """LR multiplier: linear warm-up over ``warmup`` steps, cosine decay to ``min_ratio``."""

    def __init__(self, total: int, warmup: int, min_ratio: float) -> None:
        self.total = max(int(total), 1)
        self.warmup = max(int(warmup), 0)
        self.min_ratio = float(min_ratio)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        span = max(self.total - self.warmup, 1)
        progress = min((step - self.warmup) / span, 1.0)
        return self.min_ratio + (1.0 - self.min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class TrainResult:
    """Outcome of :meth:`Distiller.fit`."""

    run_dir: Path
    step: int
    epoch: int
    best_step: int
    best_val_loss: float
    stopped_early: bool
    val_history: list[dict[str, float]] = field(default_factory=list)


@dataclass
class _Loop:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_val: float = math.inf
    best_step: int = -1
    bad_evals: int = 0
    stopped: bool = False

    def state(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _dist_info() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return rank, world, local


class Distiller:
    """Distil the teachers of ``source`` into the backbone of ``config``.

    Parameters
    ----------
    config
        A :class:`TrainConfig`.
    source
        A target source (:class:`~molmtd.training.data.ArrayTargets`,
        :class:`~molmtd.training.data.StoreTargets`).
    run_dir
        Output directory (config, log, plots, checkpoints, ``student/`` export).

    Notes
    -----
    Under ``torchrun`` (``WORLD_SIZE > 1``) the process group is initialised with gloo on CPU
    and NCCL on GPU; every rank reads its own shard of each global batch, rank 0 writes.
    """

    def __init__(self, config: TrainConfig, source: TargetSource, run_dir: str | Path) -> None:
        config.validate()
        self.config = config
        self.source = source
        self.run_dir = Path(run_dir)
        self.rank, self.world, self.local_rank = _dist_info()
        self.is_main = self.rank == 0
        self.ckpt = CheckpointManager(self.run_dir)
        self._owns_process_group = False

    # ------------------------------------------------------------------ setup
    def _setup_distributed(self) -> torch.device:
        cfg = self.config
        want = cfg.device
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        if self.world > 1:
            import torch.distributed as dist

            if want.startswith("cuda"):
                torch.cuda.set_device(self.local_rank)
                device = torch.device("cuda", self.local_rank)
                backend = "nccl"
            else:
                device = torch.device("cpu")
                backend = "gloo"
            if not dist.is_initialized():
                dist.init_process_group(backend=backend)
                self._owns_process_group = True
            return device
        return torch.device(want)

    def _teachers(self) -> dict[str, int]:
        dims = dict(self.source.teacher_dims)
        if self.config.teachers is None:
            return dims
        unknown = [t for t in self.config.teachers if t not in dims]
        if unknown:
            raise KeyError(f"teachers {unknown} not in the target source ({sorted(dims)})")
        return {t: dims[t] for t in self.config.teachers}

    def _sample_targets(
        self, train_idx: np.ndarray, teachers: dict[str, int], n: int, salt: int
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Targets and masks of ``n`` training rows drawn with seed ``[seed, salt]``."""
        rng = np.random.default_rng([self.config.seed, salt])
        rows = np.sort(rng.choice(train_idx, size=min(n, len(train_idx)), replace=False))
        targets, masks = self.source.get(rows)
        return (
            {k: torch.from_numpy(targets[k]) for k in teachers},
            {k: torch.from_numpy(masks[k]) for k in teachers},
        )

    def _fit_statistics(
        self, loss_fn: nn.Module, train_idx: np.ndarray, teachers: dict[str, int]
    ) -> None:
        loss_fn.fit_target_statistics(
            *self._sample_targets(train_idx, teachers, self.config.stats_rows, 104729)
        )

    def _resolve_loss_kwargs(
        self, train_idx: np.ndarray, teachers: dict[str, int]
    ) -> dict[str, Any]:
        """The loss arguments with ``likelihoods: auto`` replaced by the inferred mapping."""
        kwargs = dict(self.config.loss_kwargs)
        if kwargs.get("likelihoods") == "auto":
            kwargs["likelihoods"] = infer_likelihoods(
                *self._sample_targets(train_idx, teachers, 2000, 7919)
            )
        self._loss_kwargs = kwargs
        return kwargs

    def _meta(
        self,
        backbone: nn.Module,
        teachers: dict[str, int],
        data: dict[str, Any],
        metrics: dict[str, Any],
        loop: _Loop,
    ) -> dict[str, Any]:
        info = getattr(self.source, "teacher_info", {})
        return {
            "format": "molmtd-checkpoint/1",
            "backbone": backbone.config,
            "dim": int(backbone.dim),
            "teachers": {k: {"dim": d, **dict(info.get(k, {}))} for k, d in teachers.items()},
            "loss": {"name": self.config.loss, "kwargs": self._loss_kwargs},
            "data": data,
            # what the Featurizer applies to its input (Featurizer(standardize="auto"))
            "standardize": data.get("standardize", "none"),
            "train": self.config.to_dict(),
            "git_commit": self._git,
            "metrics": metrics,
            "step": loop.step,
            "epoch": loop.epoch,
            "world_size": self.world,
            "torch": torch.__version__,
        }

    # ------------------------------------------------------------------ RNG
    def _rng_state(self) -> dict[str, Any]:
        np_state = np.random.get_state()  # noqa: NPY002 (global legacy RNG of user code)
        state: dict[str, Any] = {
            "torch": torch.get_rng_state(),
            "numpy": {
                "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                "pos": int(np_state[2]),
                "has_gauss": int(np_state[3]),
                "cached_gaussian": float(np_state[4]),
            },
            "python": _py_state_to_list(random.getstate()),
        }
        if torch.cuda.is_available() and self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"].cpu())
        npst = state["numpy"]
        np.random.set_state(  # noqa: NPY002
            (
                "MT19937",
                npst["keys"].numpy().astype(np.uint32),
                npst["pos"],
                npst["has_gauss"],
                npst["cached_gaussian"],
            )
        )
        random.setstate(_py_state_from_list(state["python"]))
        if "cuda" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda"].cpu(), self.device)

    def _gather_rng(self) -> list[dict[str, Any]]:
        own = self._rng_state()
        if self.world == 1:
            return [own]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, own)
        return out

    # ------------------------------------------------------------------ loop
    def fit(self, resume: bool = False) -> TrainResult:
        """Train (or resume) to the configured length; return the outcome.

        Parameters
        ----------
        resume
            Continue from the last checkpoint in ``run_dir`` with its optimizer, scheduler,
            RNG and data-order state. Without it, a ``run_dir`` that already holds
            checkpoints is refused.
        """
        cfg = self.config
        self.device = self._setup_distributed()
        self._git = git_commit() if self.is_main else None
        seed_everything(cfg.seed)

        backbone = build_backbone(cfg.backbone)
        teachers = self._teachers()
        train_idx, val_idx = split_indices(
            len(self.source), cfg.val_fraction, cfg.seed, cfg.max_val
        )
        if len(train_idx) < cfg.batch_size:
            raise ValueError(
                f"training split has {len(train_idx)} rows, fewer than batch_size {cfg.batch_size}"
            )
        loss_kwargs = self._resolve_loss_kwargs(train_idx, teachers)
        loss_fn = build_loss(cfg.loss, backbone.dim, teachers, **loss_kwargs)
        self._fit_statistics(loss_fn, train_idx, teachers)
        module = DistillModule(backbone, loss_fn).to(self.device)
        data_info = {
            **self.source.describe(),
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "val_fraction": cfg.val_fraction,
            "split_seed": cfg.seed,
        }

        collate = getattr(backbone, "collator", None) or backbone.collate
        dataset = BatchDataset(_TeacherSubset(self.source, teachers), collate)
        sampler = EpochBatches(train_idx, cfg.batch_size, cfg.seed, self.rank, self.world)
        val_sampler = EpochBatches(
            val_idx, cfg.batch_size, cfg.seed, self.rank, self.world, shuffle=False, drop_last=False
        )
        steps_per_epoch = len(sampler)
        total = cfg.epochs * steps_per_epoch
        if cfg.max_steps is not None:
            total = min(total, cfg.max_steps)
        warmup = cfg.warmup_steps if cfg.warmup_steps >= 1 else cfg.warmup_steps * total
        optimizer = _adamw(
            [
                {"params": list(backbone.parameters())},
                {
                    "params": list(loss_fn.parameters()),
                    "lr": cfg.lr if cfg.kernel_lr is None else cfg.kernel_lr,
                    "weight_decay": cfg.weight_decay
                    if cfg.kernel_weight_decay is None
                    else cfg.kernel_weight_decay,
                },
            ],
            lr=cfg.lr,
            betas=tuple(cfg.betas),
            weight_decay=cfg.weight_decay,
        )
        clipped = list(
            backbone.parameters() if cfg.clip_scope == "student" else module.parameters()
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, WarmupCosine(total, int(warmup), cfg.min_lr_ratio)
        )

        loop = _Loop()
        last = self.ckpt.path("last")
        if last is not None and not resume:
            raise FileExistsError(
                f"{self.run_dir} already holds checkpoints; pass resume=True (--resume) or use a new run directory"
            )
        if resume and last is not None:
            loop = self._restore(last, module, optimizer, scheduler, teachers)
        elif self.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.is_main:
            atomic_write_text(self.run_dir / "config.yaml", cfg.to_yaml())
        model: nn.Module = module
        if self.world > 1:
            model = nn.parallel.DistributedDataParallel(
                module, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )

        loader_kw: dict[str, Any] = {
            "batch_size": None,
            "num_workers": cfg.num_workers,
            "pin_memory": self.device.type == "cuda",
        }
        if cfg.num_workers > 0:
            loader_kw["persistent_workers"] = True
        # Own generators: creating a DataLoader iterator would otherwise draw from the global
        # torch RNG (worker seeds), so a resumed run's dropout stream would drift.
        loader = torch.utils.data.DataLoader(
            dataset, sampler=sampler, generator=torch.Generator().manual_seed(cfg.seed), **loader_kw
        )
        val_loader = torch.utils.data.DataLoader(
            dataset,
            sampler=val_sampler,
            generator=torch.Generator().manual_seed(cfg.seed),
            **loader_kw,
        )
        log = CsvLog(self.run_dir / "log.csv", list(teachers), enabled=self.is_main)
        log.truncate_after(loop.step if loop.step > 0 else -1)

        def evaluate() -> dict[str, float]:
            return self._evaluate(module, val_loader, teachers)

        keep_steps = set(cfg.keep_steps or ())

        def checkpoint(metrics: dict[str, Any], is_best: bool) -> None:
            rng = self._gather_rng()
            if not self.is_main:
                return
            state = {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": rng,
                "loop": loop.state(),
            }
            self.ckpt.save(
                loop.step,
                model_tensors(backbone, loss_fn),
                self._meta(backbone, teachers, data_info, metrics, loop),
                state,
                is_best,
                keep=loop.step in keep_steps,
            )

        history: list[dict[str, float]] = []
        if loop.step == 0 and cfg.eval_at_start and len(val_idx):
            metrics = evaluate()
            history.append({"step": 0, **metrics})
            log.write(0, 0, "val", scheduler.get_last_lr()[0], metrics)

        bar = None
        if self.is_main and cfg.progress:
            from molmtd.utils import progress_bar as tqdm

            bar = tqdm(
                total=total, initial=loop.step, desc="distill", unit="step", dynamic_ncols=True
            )
        run_loss = torch.zeros(len(teachers) + 1, dtype=torch.float64)
        run_n = 0
        last_ckpt_step = loop.step if last is not None and resume else -1
        t0 = time.perf_counter()
        module.train()
        while loop.step < total and not loop.stopped:
            sampler.set_epoch(loop.epoch, loop.batch_in_epoch)
            for batch, targets, masks, _rows in loader:
                batch = to_device(batch, self.device)
                targets = to_device(targets, self.device)
                masks = to_device(masks, self.device)
                out = model(batch, targets, masks)
                optimizer.zero_grad(set_to_none=True)
                out.total.backward()
                if cfg.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(clipped, cfg.grad_clip)
                optimizer.step()
                scheduler.step()
                loop.step += 1
                loop.batch_in_epoch += 1
                run_loss += torch.tensor(
                    [float(out.total.detach())] + [float(out.per_teacher[k]) for k in teachers],
                    dtype=torch.float64,
                )
                run_n += 1
                if loop.batch_in_epoch >= steps_per_epoch:
                    loop.epoch += 1
                    loop.batch_in_epoch = 0
                if bar is not None:
                    bar.update(1)
                    if loop.step % 10 == 0:
                        bar.set_postfix(loss=f"{float(out.total.detach()):.4g}", epoch=loop.epoch)
                if loop.step % cfg.log_every == 0 or loop.step == total:
                    avg = self._all_mean(run_loss / max(run_n, 1))
                    row = {"loss": avg[0]} | {
                        f"{k}/loss": avg[i + 1] for i, k in enumerate(teachers)
                    }
                    row["mol_per_s"] = cfg.batch_size * run_n / max(time.perf_counter() - t0, 1e-9)
                    log.write(loop.step, loop.epoch, "train", scheduler.get_last_lr()[0], row)
                    run_loss.zero_()
                    run_n = 0
                    t0 = time.perf_counter()
                done = loop.step >= total
                epoch_end = loop.batch_in_epoch == 0
                eval_due = len(val_idx) > 0 and (
                    (loop.step % cfg.eval_every == 0) if cfg.eval_every else epoch_end
                )
                if done and len(val_idx) and (not history or history[-1]["step"] != loop.step):
                    eval_due = True  # the final weights are always validated
                metrics: dict[str, Any] = {}
                is_best = False
                if eval_due:
                    metrics = evaluate()
                    history.append({"step": loop.step, **metrics})
                    log.write(loop.step, loop.epoch, "val", scheduler.get_last_lr()[0], metrics)
                    if metrics["loss"] < loop.best_val:
                        loop.best_val, loop.best_step, loop.bad_evals = (
                            metrics["loss"],
                            loop.step,
                            0,
                        )
                        is_best = True
                    else:
                        loop.bad_evals += 1
                        if cfg.patience is not None and loop.bad_evals >= cfg.patience:
                            loop.stopped = True
                    module.train()
                ckpt_due = (
                    ((loop.step % cfg.checkpoint_every == 0) if cfg.checkpoint_every else eval_due)
                    or done
                    or loop.stopped
                    or loop.step in keep_steps
                )
                if ckpt_due:
                    checkpoint(metrics, is_best)
                    last_ckpt_step = loop.step
                if done or loop.stopped:
                    break
            if steps_per_epoch == 0:
                break
        if bar is not None:
            bar.close()
        if loop.step > last_ckpt_step and loop.step > 0:
            checkpoint({}, False)
        self._finish()
        return TrainResult(
            run_dir=self.run_dir,
            step=loop.step,
            epoch=loop.epoch,
            best_step=loop.best_step,
            best_val_loss=loop.best_val,
            stopped_early=loop.stopped,
            val_history=history,
        )

    def _finish(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()
            if self._owns_process_group:
                dist.destroy_process_group()
                self._owns_process_group = False
        if not self.is_main:
            return
        best = self.ckpt.path("best") or self.ckpt.path("last")
        if best is not None:
            export_student(best, self.run_dir / "student")
        plot_curves(self.run_dir / "log.csv", self.run_dir / "curves.png")
        write_json(
            self.run_dir / "summary.json", {"pointer": self.ckpt.pointer(), "git_commit": self._git}
        )

    def _all_mean(self, values: torch.Tensor) -> list[float]:
        if self.world > 1:
            import torch.distributed as dist

            values = values.clone()
            dist.all_reduce(values)
            values /= self.world
        return values.tolist()

    def _restore(
        self, path: Path, module: DistillModule, optimizer, scheduler, teachers: dict[str, int]
    ) -> _Loop:
        tensors, meta, state = load_checkpoint(path)
        if meta["backbone"] != module.backbone.config:
            raise ValueError(
                f"cannot resume: checkpoint backbone {meta['backbone']} differs from the config {module.backbone.config}"
            )
        if sorted(meta["teachers"]) != sorted(teachers):
            raise ValueError(
                f"cannot resume: checkpoint teachers {sorted(meta['teachers'])} differ from {sorted(teachers)}"
            )
        if meta["loss"]["name"] != self.config.loss:
            raise ValueError(
                f"cannot resume: checkpoint loss {meta['loss']['name']!r} differs from {self.config.loss!r}"
            )
        if state is None:
            raise ValueError(f"checkpoint {path} has no trainer state ({path.name}/state.pt)")
        module.backbone.load_state_dict(split_tensors(tensors, "backbone"))
        module.loss_fn.load_state_dict(split_tensors(tensors, "loss"))
        module.to(self.device)
        optimizer.load_state_dict(state["optimizer"])
        schedule = scheduler.lr_lambdas[0]
        wanted = dict(vars(schedule))
        scheduler.load_state_dict(state["scheduler"])
        if vars(schedule) != wanted:
            # The run was extended/shortened (epochs, max_steps, warm-up changed): follow the
            # schedule of the current config from the restored step on.
            vars(schedule).update(wanted)
            for group, base in zip(optimizer.param_groups, scheduler.base_lrs):
                group["lr"] = base * schedule(scheduler.last_epoch)
            scheduler._last_lr = [g["lr"] for g in optimizer.param_groups]
        rngs = state["rng"]
        self._set_rng_state(rngs[self.rank] if len(rngs) == self.world else rngs[0])
        return _Loop(**state["loop"])

    @torch.no_grad()
    def _evaluate(
        self, module: DistillModule, loader, teachers: dict[str, int]
    ) -> dict[str, float]:
        module.eval()
        names = list(teachers)
        k = len(names)
        # sums: loss_k * n_k, mi_k * n_k, n_k
        acc = torch.zeros(3 * k, dtype=torch.float64)
        for batch, targets, masks, _rows in loader:
            out = module(
                to_device(batch, self.device),
                to_device(targets, self.device),
                to_device(masks, self.device),
            )
            for i, name in enumerate(names):
                n = out.n_valid.get(name, 0)
                if n == 0:
                    continue
                acc[i] += float(out.per_teacher[name]) * n
                if name in out.mi:
                    acc[k + i] += float(out.mi[name]) * n
                acc[2 * k + i] += n
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(acc)
        weights = module.loss_fn.weights
        metrics: dict[str, float] = {}
        total = 0.0
        for i, name in enumerate(names):
            n = float(acc[2 * k + i])
            mean = float(acc[i]) / n if n else float("nan")
            metrics[f"{name}/loss"] = mean
            if self.config.loss in ("nll", "beta-nll"):
                metrics[f"{name}/mi"] = float(acc[k + i]) / n if n else float("nan")
            if n:
                total += weights[name] * mean
        metrics["loss"] = total
        return metrics


class _TeacherSubset:
    """View of a target source restricted to some teachers (keeps workers' reads small)."""

    def __init__(self, source: TargetSource, teachers: dict[str, int]) -> None:
        self.source = source
        self.teachers = list(teachers)

    def __len__(self) -> int:
        return len(self.source)

    def items(self, indices: np.ndarray) -> list[Any]:
        return self.source.items(indices)

    def get(self, indices: np.ndarray):
        targets, masks = self.source.get(indices)
        return {k: targets[k] for k in self.teachers}, {k: masks[k] for k in self.teachers}


def _py_state_to_list(state: tuple) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _py_state_from_list(state: list[Any]) -> tuple:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)


def train(
    config: TrainConfig, source: TargetSource, run_dir: str | Path, resume: bool = False
) -> TrainResult:
    """Functional shortcut: ``Distiller(config, source, run_dir).fit(resume)``."""
    return Distiller(config, source, run_dir).fit(resume=resume)
