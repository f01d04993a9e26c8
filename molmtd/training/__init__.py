"""Distillation training: data sources, trainer, checkpoints, inference helpers."""

from molmtd.training.config import TrainConfig
from molmtd.training.data import ArrayTargets, StoreTargets, TargetSource
from molmtd.training.inference import embed, load_student
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
