"""Modality-agnostic multi-teacher distillation trainer (single process or DDP via torchrun).

The trainer knows nothing about molecules: a backbone turns raw items into embeddings
(``collate`` + ``forward``), a target source gives the teachers' embeddings of each row,
and a :mod:`molmtd.loss` objective ties them together. The optimiser and its schedule are
built by :mod:`molmtd.training.optim`, the validation pass is
:mod:`molmtd.training.validation`, and the RNG state a checkpoint keeps is
:mod:`molmtd.training.rng`.
"""

from __future__ import annotations

import math
import os
import time
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
from molmtd.training.optim import WarmupCosine as WarmupCosine  # re-exported (public name)
from molmtd.training.optim import build_optimizer
from molmtd.training.rng import gather_rng_states, set_rng_state
from molmtd.training.validation import validation_metrics
from molmtd.utils import atomic_write_text, seed_everything, write_json


class DistillModule(nn.Module):
    """Backbone + loss heads as one module (what DDP wraps)."""

    def __init__(self, backbone: nn.Module, loss_fn: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.loss_fn = loss_fn

    def forward(self, batch: Any, targets: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]):
        return self.loss_fn(self.backbone(batch), targets, masks)


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


class _LossWindow:
    """Training losses summed since the last ``train`` row of the log, and since when."""

    def __init__(self, n_teachers: int) -> None:
        self.sums = torch.zeros(n_teachers + 1, dtype=torch.float64)
        self.n = 0
        self.t0 = time.perf_counter()

    def add(self, out: Any, teachers: dict[str, int]) -> None:
        """Add one step's total loss and per-teacher losses."""
        self.sums += torch.tensor(
            [float(out.total.detach())] + [float(out.per_teacher[k]) for k in teachers],
            dtype=torch.float64,
        )
        self.n += 1

    def reset(self) -> None:
        self.sums.zero_()
        self.n = 0
        self.t0 = time.perf_counter()


@dataclass
class _Run:
    """What one :meth:`Distiller.fit` call builds and its loop's helpers share.

    Attributes
    ----------
    module
        Backbone + loss heads (``module.backbone``, ``module.loss_fn``).
    model
        What is called on a batch: ``module``, or its DDP wrapper.
    clipped
        The parameters whose gradient norm ``grad_clip`` bounds.
    resumed
        The run continues from a checkpoint of ``run_dir``.
    """

    module: DistillModule
    model: nn.Module
    teachers: dict[str, int]
    val_idx: np.ndarray
    data_info: dict[str, Any]
    sampler: EpochBatches
    loader: torch.utils.data.DataLoader
    val_loader: torch.utils.data.DataLoader
    steps_per_epoch: int
    total: int
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    clipped: list[nn.Parameter]
    loop: _Loop
    resumed: bool
    log: CsvLog
    keep_steps: set[int]
    history: list[dict[str, float]] = field(default_factory=list)
    bar: Any = None


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

    # ------------------------------------------------------------------ setup of a run
    def _build_module(self) -> tuple[DistillModule, dict[str, int], np.ndarray, np.ndarray]:
        """The backbone and loss heads on the device, the teachers, the train and val rows.

        The loss's arguments (``likelihoods: auto``) and target statistics come from training
        rows.
        """
        cfg = self.config
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
        return module, teachers, train_idx, val_idx

    def _data_info(self, train_idx: np.ndarray, val_idx: np.ndarray) -> dict[str, Any]:
        """The ``data`` entry of a checkpoint's meta: the source and the split."""
        return {
            **self.source.describe(),
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "val_fraction": self.config.val_fraction,
            "split_seed": self.config.seed,
        }

    def _total_steps(self, steps_per_epoch: int) -> int:
        """Length of the run: ``epochs`` epochs, at most ``max_steps`` steps."""
        total = self.config.epochs * steps_per_epoch
        if self.config.max_steps is not None:
            total = min(total, self.config.max_steps)
        return total

    def _start(
        self,
        resume: bool,
        module: DistillModule,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LambdaLR,
        teachers: dict[str, int],
    ) -> tuple[_Loop, bool]:
        """Restore the last checkpoint (``resume``) or start afresh; write ``config.yaml``.

        Returns the loop state and whether the run resumed. A run directory that holds
        checkpoints is refused without ``resume``.
        """
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
            atomic_write_text(self.run_dir / "config.yaml", self.config.to_yaml())
        return loop, last is not None and resume

    def _wrap(self, module: DistillModule) -> nn.Module:
        """``module`` itself, or its DistributedDataParallel wrapper under torchrun."""
        if self.world > 1:
            return nn.parallel.DistributedDataParallel(
                module, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        return module

    def _loaders(
        self, dataset: BatchDataset, sampler: EpochBatches, val_sampler: EpochBatches
    ) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
        """Training and validation loaders (the samplers yield whole batches)."""
        cfg = self.config
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
        return loader, val_loader

    def _prepare(self, resume: bool) -> _Run:
        """Build (or restore, on ``resume``) everything the loop needs, and open the log.

        The steps run in a fixed order: model initialisation, the optimizer, restoring the
        checkpoint's RNG state and the DDP wrap each depend on what came before.
        """
        cfg = self.config
        module, teachers, train_idx, val_idx = self._build_module()
        data_info = self._data_info(train_idx, val_idx)
        backbone = module.backbone
        collate = getattr(backbone, "collator", None) or backbone.collate
        dataset = BatchDataset(_TeacherSubset(self.source, teachers), collate)
        sampler = EpochBatches(train_idx, cfg.batch_size, cfg.seed, self.rank, self.world)
        val_sampler = EpochBatches(
            val_idx, cfg.batch_size, cfg.seed, self.rank, self.world, shuffle=False, drop_last=False
        )
        total = self._total_steps(len(sampler))
        optimizer, scheduler = build_optimizer(backbone, module.loss_fn, cfg, total)
        clipped = list(
            backbone.parameters() if cfg.clip_scope == "student" else module.parameters()
        )
        loop, resumed = self._start(resume, module, optimizer, scheduler, teachers)
        model = self._wrap(module)
        loader, val_loader = self._loaders(dataset, sampler, val_sampler)
        log = CsvLog(self.run_dir / "log.csv", list(teachers), enabled=self.is_main)
        log.truncate_after(loop.step if loop.step > 0 else -1)
        return _Run(
            module=module, model=model, teachers=teachers, val_idx=val_idx, data_info=data_info,
            sampler=sampler, loader=loader, val_loader=val_loader, steps_per_epoch=len(sampler),
            total=total, optimizer=optimizer, scheduler=scheduler, clipped=clipped, loop=loop,
            resumed=resumed, log=log, keep_steps=set(cfg.keep_steps or ()),
        )  # fmt: skip

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
        run = self._prepare(resume)
        loop = run.loop
        if loop.step == 0 and cfg.eval_at_start and len(run.val_idx):
            self._validate(run, step=0, epoch=0)
        if self.is_main and cfg.progress:
            from molmtd.utils import progress_bar as tqdm

            run.bar = tqdm(
                total=run.total, initial=loop.step, desc="distill", unit="step", dynamic_ncols=True
            )
        last_ckpt_step = self._train(run)
        if run.bar is not None:
            run.bar.close()
        if loop.step > last_ckpt_step and loop.step > 0:
            self._checkpoint(run, {}, False)
        self._finish()
        return TrainResult(
            run_dir=self.run_dir,
            step=loop.step,
            epoch=loop.epoch,
            best_step=loop.best_step,
            best_val_loss=loop.best_val,
            stopped_early=loop.stopped,
            val_history=run.history,
        )

    def _train(self, run: _Run) -> int:
        """Step through the batches until the run's length or an early stop.

        Each step is followed, in this order, by the train log row, the validation and the
        checkpoint when they are due. Returns the step of the last checkpoint written (-1:
        none in this run directory).
        """
        loop = run.loop
        window = _LossWindow(len(run.teachers))
        last_ckpt_step = loop.step if run.resumed else -1
        run.module.train()
        while loop.step < run.total and not loop.stopped:
            run.sampler.set_epoch(loop.epoch, loop.batch_in_epoch)
            for batch, targets, masks, _rows in run.loader:
                self._step(run, window, batch, targets, masks)
                done = loop.step >= run.total
                metrics, is_best, eval_due = self._validate_if_due(run, done)
                if self._checkpoint_due(run, eval_due, done):
                    self._checkpoint(run, metrics, is_best)
                    last_ckpt_step = loop.step
                if done or loop.stopped:
                    break
            if run.steps_per_epoch == 0:
                break
        return last_ckpt_step

    def _optimize(self, run: _Run, batch: Any, targets: Any, masks: Any) -> Any:
        """Forward, backward, clip and optimizer/scheduler step on one batch; the loss output."""
        batch = to_device(batch, self.device)
        targets = to_device(targets, self.device)
        masks = to_device(masks, self.device)
        out = run.model(batch, targets, masks)
        run.optimizer.zero_grad(set_to_none=True)
        out.total.backward()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(run.clipped, self.config.grad_clip)
        run.optimizer.step()
        run.scheduler.step()
        return out

    def _step(self, run: _Run, window: _LossWindow, batch: Any, targets: Any, masks: Any) -> None:
        """One training step: optimise, advance the loop, the progress bar and the train log."""
        loop = run.loop
        out = self._optimize(run, batch, targets, masks)
        loop.step += 1
        loop.batch_in_epoch += 1
        window.add(out, run.teachers)
        if loop.batch_in_epoch >= run.steps_per_epoch:
            loop.epoch += 1
            loop.batch_in_epoch = 0
        if run.bar is not None:
            run.bar.update(1)
            if loop.step % 10 == 0:
                run.bar.set_postfix(loss=f"{float(out.total.detach()):.4g}", epoch=loop.epoch)
        if loop.step % self.config.log_every == 0 or loop.step == run.total:
            self._log_train(run, window)

    def _log_train(self, run: _Run, window: _LossWindow) -> None:
        """Write the mean training losses since the last row (over all ranks); restart them."""
        avg = self._all_mean(window.sums / max(window.n, 1))
        row = {"loss": avg[0]} | {f"{k}/loss": avg[i + 1] for i, k in enumerate(run.teachers)}
        elapsed = max(time.perf_counter() - window.t0, 1e-9)
        row["mol_per_s"] = self.config.batch_size * window.n / elapsed
        loop = run.loop
        run.log.write(loop.step, loop.epoch, "train", run.scheduler.get_last_lr()[0], row)
        window.reset()

    def _validate(self, run: _Run, step: int, epoch: int) -> dict[str, float]:
        """Validation metrics of the current weights, recorded in the history and the log."""
        metrics = validation_metrics(
            run.module, run.val_loader, run.teachers, device=self.device, world=self.world,
            with_mi=self.config.loss in ("nll", "beta-nll"),
        )  # fmt: skip
        run.history.append({"step": step, **metrics})
        run.log.write(step, epoch, "val", run.scheduler.get_last_lr()[0], metrics)
        return metrics

    def _validate_if_due(self, run: _Run, done: bool) -> tuple[dict[str, Any], bool, bool]:
        """Validate when due (``eval_every`` steps or epoch end; always the final weights).

        Returns the metrics (empty when not validated), whether they are the best so far, and
        whether validation was due.
        """
        cfg, loop = self.config, run.loop
        epoch_end = loop.batch_in_epoch == 0
        eval_due = len(run.val_idx) > 0 and (
            (loop.step % cfg.eval_every == 0) if cfg.eval_every else epoch_end
        )
        if done and len(run.val_idx) and (not run.history or run.history[-1]["step"] != loop.step):
            eval_due = True  # the final weights are always validated
        if not eval_due:
            return {}, False, False
        metrics = self._validate(run, loop.step, loop.epoch)
        is_best = self._track_best(loop, metrics["loss"])
        run.module.train()
        return metrics, is_best, True

    def _track_best(self, loop: _Loop, val_loss: float) -> bool:
        """Record a validation loss: True for a new best; stop after ``patience`` bad ones."""
        if val_loss < loop.best_val:
            loop.best_val, loop.best_step, loop.bad_evals = val_loss, loop.step, 0
            return True
        loop.bad_evals += 1
        if self.config.patience is not None and loop.bad_evals >= self.config.patience:
            loop.stopped = True
        return False

    def _checkpoint_due(self, run: _Run, eval_due: bool, done: bool) -> bool:
        """Whether to checkpoint after this step.

        Due every ``checkpoint_every`` steps (without it: at each validation), at the end, on
        an early stop and at each of ``keep_steps``.
        """
        cfg, loop = self.config, run.loop
        periodic = (loop.step % cfg.checkpoint_every == 0) if cfg.checkpoint_every else eval_due
        return periodic or done or loop.stopped or loop.step in run.keep_steps

    def _checkpoint(self, run: _Run, metrics: dict[str, Any], is_best: bool) -> None:
        """Save weights, meta and trainer state (every rank's RNG; rank 0 writes)."""
        rng = gather_rng_states(self.device, self.world)
        if not self.is_main:
            return
        loop, backbone = run.loop, run.module.backbone
        state = {
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict(),
            "rng": rng,
            "loop": loop.state(),
        }
        self.ckpt.save(
            loop.step,
            model_tensors(backbone, run.module.loss_fn),
            self._meta(backbone, run.teachers, run.data_info, metrics, loop),
            state,
            is_best,
            keep=loop.step in run.keep_steps,
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
        set_rng_state(rngs[self.rank] if len(rngs) == self.world else rngs[0], self.device)
        return _Loop(**state["loop"])


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


def train(
    config: TrainConfig, source: TargetSource, run_dir: str | Path, resume: bool = False
) -> TrainResult:
    """Functional shortcut: ``Distiller(config, source, run_dir).fit(resume)``."""
    return Distiller(config, source, run_dir).fit(resume=resume)
