"""Former home of the training API and of ``molmtd distill``, kept so that old imports work.

The API is :mod:`molmtd.training`; the command line is :mod:`molmtd.training.cli`. New code
imports from those: ``from molmtd.training import TrainConfig, Distiller, load_student``.
"""

from molmtd.training import (
    ArrayTargets,
    Distiller,
    StoreTargets,
    TargetSource,
    TrainConfig,
    TrainResult,
    embed,
    load_student,
    train,
)
from molmtd.training.cli import config_from_args, resolve_config_path

__all__ = [
    "ArrayTargets",
    "Distiller",
    "StoreTargets",
    "TargetSource",
    "TrainConfig",
    "TrainResult",
    "config_from_args",
    "embed",
    "load_student",
    "resolve_config_path",
    "train",
]
