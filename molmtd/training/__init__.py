"""Distillation training: data sources, trainer, checkpoints (``load_student`` and ``embed``
from :mod:`molmtd.student` and :mod:`molmtd.backbones.batching`, kept here for scripts)."""

from molmtd.backbones.batching import embed
from molmtd.student.loading import load_student
from molmtd.training.config import TrainConfig
from molmtd.training.data import ArrayTargets, StoreTargets, TargetSource
from molmtd.training.trainer import Distiller, TrainResult, train

__all__ = [
    "ArrayTargets",
    "Distiller",
    "StoreTargets",
    "TargetSource",
    "TrainConfig",
    "TrainResult",
    "embed",
    "load_student",
    "train",
]
