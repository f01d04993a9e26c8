"""The ``Teacher`` protocol and the teacher registry.

A teacher maps SMILES to a fixed-width float32 embedding plus a validity mask. Teachers run
once per molecule when a :class:`~molmtd.store.TeacherStore` is built; training and inference
never call them. Teachers must be picklable and build heavy RDKit/torch objects lazily (inside
the worker process that first calls :meth:`Teacher.embed`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from molmtd.utils import config_hash


@runtime_checkable
class Teacher(Protocol):
    """What every teacher provides.

    Attributes
    ----------
    name
        Registry name, e.g. ``"morgan"``.
    dim
        Width of the embedding.
    config
        JSON-serialisable dict that fully determines the embedding (model, radius, pooling,
        fitted scaler statistics, package versions that change outputs, ...). Its hash is
        part of the store's cache key.
    """

    name: str
    dim: int

    @property
    def config(self) -> dict[str, Any]: ...

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embed a batch.

        Returns
        -------
        X : float32 array [N, dim]
            Rows where ``mask`` is False are NaN, never zeros passed off as an embedding.
        mask : bool array [N]
            True where the molecule was embedded.
        """
        ...


class BaseTeacher:
    """Convenience base: ``config_hash`` and a ``__repr__`` from ``config``."""

    name: str = "base"
    dim: int = 0
    #: True for teachers that must be fitted on the corpus before embedding (e.g. scalers).
    requires_fit: bool = False

    @property
    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def config_hash(self) -> str:
        return config_hash(self.config)

    def fit(self, smiles: Sequence[str]) -> BaseTeacher:
        """Fit corpus statistics (no-op unless ``requires_fit``)."""
        return self

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        # Drop lazily built heavy objects (models, RDKit generators): rebuilt in the worker.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_lazy")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


TeacherFactory = Callable[..., Teacher]
_REGISTRY: dict[str, tuple[TeacherFactory, str]] = {}


def register_teacher(name: str, family: str) -> Callable[[TeacherFactory], TeacherFactory]:
    """Decorator registering a teacher factory under ``name`` (family: fingerprint|lm|3d|...)."""

    def deco(factory: TeacherFactory) -> TeacherFactory:
        if name in _REGISTRY:
            raise ValueError(f"teacher {name!r} is already registered")
        _REGISTRY[name] = (factory, family)
        return factory

    return deco


#: Parametric names resolved by pattern (e.g. ``morgan-pca64``): (regex, factory of the match).
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[TeacherFactory, str]]]] = []


def register_teacher_pattern(
    pattern: str, resolve: Callable[[re.Match[str]], tuple[TeacherFactory, str]]
) -> None:
    """Register a family of parametric teacher names.

    ``resolve(match)`` returns the factory for a name that fully matches ``pattern`` and
    the family it belongs to; it raises ``KeyError`` when the name is not one of them.
    """
    _PATTERNS.append((re.compile(pattern), resolve))


def _resolve(name: str) -> tuple[TeacherFactory, str]:
    _load_builtin_teachers()
    if name in _REGISTRY:
        return _REGISTRY[name]
    for pattern, resolve in _PATTERNS:
        match = pattern.fullmatch(name)
        if match is not None:
            return resolve(match)
    raise KeyError(f"unknown teacher {name!r}; known: {sorted(_REGISTRY)}")


def get_teacher(name: str, **kwargs: Any) -> Teacher:
    """Instantiate a registered teacher by name (``<teacher>-pca<k>`` projects one)."""
    return _resolve(name)[0](**kwargs)


def teacher_family(name: str) -> str | None:
    """The family of a registered or parametric teacher name (None when unknown)."""
    try:
        return _resolve(name)[1]
    except KeyError:
        return None


def list_teachers() -> dict[str, str]:
    """Map of registered teacher names to their family (parametric names not included)."""
    _load_builtin_teachers()
    return {name: fam for name, (_, fam) in sorted(_REGISTRY.items())}


def nan_rows(n: int, dim: int) -> np.ndarray:
    """An [n, dim] float32 block of NaN (the value of invalid rows)."""
    return np.full((n, dim), np.nan, dtype=np.float32)


def _load_builtin_teachers() -> None:
    import importlib

    for module in ("fingerprints", "language_models", "conformers", "minimol", "projected"):
        try:
            importlib.import_module(f"molmtd.teachers.{module}")
        except ModuleNotFoundError as err:  # module not written yet / optional dependency
            if err.name != f"molmtd.teachers.{module}":
                raise
