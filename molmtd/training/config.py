"""``TrainConfig``: every setting of a distillation run (YAML <-> dataclass)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass
class TrainConfig:
    """Settings of a distillation run.

    Attributes
    ----------
    backbone
        Backbone config for :func:`molmtd.backbones.build_backbone` (``{"name": ..., ...}``).
    loss, loss_kwargs
        Objective name (``"nll"`` | ``"mse"`` | ``"cosine"``) and extra arguments of
        :func:`molmtd.loss.build_loss` (e.g. ``hidden``, ``n_layers``, ``weights``).
    teachers
        Subset of the source's teachers (default: all).
    store
        Path of a :class:`molmtd.store.TeacherStore` (used by the CLI; the Python API takes a
        target source instead).
    epochs, max_steps
        Training length: ``epochs`` passes over the training split, capped at ``max_steps``.
    batch_size
        Global batch size (split evenly across DDP ranks).
    lr, weight_decay, betas, grad_clip
        AdamW settings and the gradient-norm clip (None: no clipping).
    clip_scope
        ``"all"``: clip the norm of every gradient together; ``"student"``: clip only the
        backbone's, as the authors do, so that large kernel gradients (sharp precisions) do
        not shrink the student's update.
    kernel_lr, kernel_weight_decay
        Learning rate and weight decay of the loss heads (kernels / projection heads);
        None: the same as the backbone's.
    warmup_steps, min_lr_ratio
        Linear warm-up (steps, or a fraction of all steps if < 1), then cosine decay to
        ``lr * min_lr_ratio``.
    val_fraction, max_val
        Seeded random held-out validation split of the corpus (capped at ``max_val`` rows).
    eval_every
        Validate every this many steps (None: at the end of each epoch).
    checkpoint_every
        Checkpoint every this many steps (None: after every validation). The final step is
        always checkpointed.
    keep_steps
        Steps whose checkpoints are kept for good (besides the last and the best), e.g.
        the points of a learning curve; a checkpoint is written at each of them.
    log_every
        Training-loss log interval (steps).
    patience
        Early stopping after this many validations without improvement (None: never).
    stats_rows
        Training rows used to fit the per-teacher target statistics.
    num_workers
        DataLoader workers for featurisation and target reads (0: in the main process).
    seed
        Seeds the initialisation, the split, the data order and the statistics sample.
    device
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``...
    progress
        Show a tqdm progress bar (rank 0).
    eval_at_start
        Validate the untrained student at step 0 (logged, never selected as best).
    """

    backbone: dict[str, Any] = field(default_factory=lambda: {"name": "gine"})
    loss: str = "nll"
    loss_kwargs: dict[str, Any] = field(default_factory=dict)
    teachers: list[str] | None = None
    store: str | None = None
    epochs: int = 10
    max_steps: int | None = None
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.01
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    grad_clip: float | None = 1.0
    clip_scope: str = "all"
    kernel_lr: float | None = None
    kernel_weight_decay: float | None = None
    warmup_steps: float = 0.05
    min_lr_ratio: float = 0.01
    val_fraction: float = 0.05
    max_val: int | None = 5000
    eval_every: int | None = None
    checkpoint_every: int | None = None
    keep_steps: list[int] | None = None
    log_every: int = 50
    patience: int | None = 10
    stats_rows: int = 20000
    num_workers: int = 0
    seed: int = 0
    device: str = "auto"
    progress: bool = True
    eval_at_start: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict; unknown keys raise ``KeyError`` (typos must not pass silently)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise KeyError(f"unknown training option(s) {unknown}; valid: {sorted(names)}")
        cfg = cls(**data)
        cfg.validate()
        return cfg

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def validate(self) -> None:
        if "name" not in self.backbone:
            raise ValueError("backbone config needs a 'name'")
        from molmtd.loss import LOSSES

        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {self.loss!r}")
        if self.clip_scope not in ("all", "student"):
            raise ValueError(f"clip_scope must be 'all' or 'student', got {self.clip_scope!r}")
        if self.batch_size < 1 or self.epochs < 0:
            raise ValueError("batch_size must be >= 1 and epochs >= 0")
        if self.max_steps is not None and self.max_steps < 0:
            raise ValueError("max_steps must be >= 0")
        for name in ("eval_every", "checkpoint_every"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")


def resolve_config_path(name: str | Path) -> Path:
    """A YAML path, or the name of a packaged config (``"small"`` -> ``molmtd/configs/small.yaml``)."""
    path = Path(name)
    if path.is_file():
        return path
    packaged = resources.files("molmtd") / "configs" / f"{path.stem}.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    raise FileNotFoundError(
        f"config {name!r} is neither a file nor a packaged config (molmtd/configs/*.yaml)"
    )
