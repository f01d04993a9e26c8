"""molmtd: task-agnostic molecular representations by multi-teacher distillation."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Featurizer",
    "__version__",
    "featurize_dask",
    "featurize_file",
    "list_models",
    "load_student_module",
]


def __getattr__(name: str) -> Any:
    # Lazy: `import molmtd` stays cheap; torch/RDKit load on first use.
    if name == "Featurizer":
        from molmtd.featurizer import Featurizer

        return Featurizer
    if name == "featurize_dask":
        from molmtd.tables.dask import featurize_dask

        return featurize_dask
    if name == "featurize_file":
        from molmtd.tables.streaming import featurize_file

        return featurize_file
    if name == "list_models":
        from molmtd.student.shipped import list_models

        return list_models
    if name == "load_student_module":
        from molmtd.student_module import load_student_module

        return load_student_module
    raise AttributeError(f"module 'molmtd' has no attribute {name!r}")
