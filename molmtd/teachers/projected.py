"""A teacher projected onto its leading principal components, fitted on the corpus.

A hashed fingerprint spends thousands of target dimensions on bits that a student recovers
poorly (held-out R² 0.08-0.15); projected onto its top ``k`` principal components it keeps
most of its variance in ``k`` dense targets. ``get_teacher("morgan-pca64")`` (any registered
teacher, any ``k``) builds a :class:`ProjectedTeacher`; a store fits it on the corpus like
any ``requires_fit`` teacher (``molmtd teachers build --teachers morgan-pca64 --fit-n N``),
and its config carries the base teacher's config, the fit size, the explained variance and
the sha256 of the fitted basis, so the store's config hash pins the projection.
Imports: :mod:`molmtd.teachers.base` only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from molmtd.teachers.base import (
    BaseTeacher,
    Teacher,
    TeacherFactory,
    get_teacher,
    register_teacher_pattern,
    teacher_family,
)


class ProjectedTeacher(BaseTeacher):
    """``base``'s embedding, centred and projected onto its top ``components`` principal axes.

    Parameters
    ----------
    base
        The teacher to project, or its registered name.
    components
        Number of principal components kept (the output width).
    **base_kwargs
        Passed to :func:`~molmtd.teachers.base.get_teacher` when ``base`` is a name.

    Notes
    -----
    :meth:`fit` embeds the fit molecules with ``base`` (fitting ``base`` first when it needs
    it), and takes the eigenvectors of their covariance with the largest eigenvalues, each
    signed so that its largest-magnitude loading is positive (a deterministic basis). The
    components are not whitened: the trainer standardises every target dimension anyway.
    Molecules ``base`` cannot embed stay masked.
    """

    requires_fit = True

    def __init__(self, base: Teacher | str, components: int = 64, **base_kwargs: Any) -> None:
        if isinstance(base, str):
            base = get_teacher(base, **base_kwargs)
        elif base_kwargs:
            raise TypeError("base_kwargs only apply when base is a teacher name")
        if int(components) < 1:
            raise ValueError(f"components must be at least 1, got {components}")
        if int(components) > base.dim:
            raise ValueError(
                f"{base.name} has {base.dim} dimensions; cannot keep {components} components"
            )
        self.base = base
        self.components = int(components)
        self.name = f"{base.name}-pca{self.components}"
        self.dim = self.components
        self.mean: np.ndarray | None = None
        self.basis: np.ndarray | None = None
        self.explained_variance_ratio: float | None = None
        self.n_fit = 0

    @property
    def is_fitted(self) -> bool:
        return self.basis is not None

    @property
    def last_report(self) -> dict[str, Any] | None:
        """The base teacher's report on its last batch (counts of failures and the like)."""
        return getattr(self.base, "last_report", None)

    def basis_sha256(self) -> str | None:
        """sha256 of the fitted mean and basis (float64 bytes), None before :meth:`fit`."""
        if self.mean is None or self.basis is None:
            return None
        digest = hashlib.sha256(np.ascontiguousarray(self.mean, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(self.basis, dtype=np.float64).tobytes())
        return digest.hexdigest()

    @property
    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base": self.base.name,
            "base_config": self.base.config,
            "components": self.components,
            "n_fit": self.n_fit,
            "explained_variance_ratio": self.explained_variance_ratio,
            "basis_sha256": self.basis_sha256(),
        }

    def fit(self, smiles: Sequence[str]) -> ProjectedTeacher:
        """Fit the base teacher if it needs it, then the principal axes on ``smiles``."""
        if getattr(self.base, "requires_fit", False):
            self.base = self.base.fit(smiles) or self.base
        x, mask = self.base.embed(smiles)
        x = np.asarray(x, dtype=np.float64)[np.asarray(mask, dtype=bool)]
        if x.shape[0] <= self.components:
            raise ValueError(
                f"{self.name}: need more than {self.components} embedded molecules to fit, "
                f"got {x.shape[0]}"
            )
        mean = x.mean(axis=0)
        centred = x - mean
        cov = centred.T @ centred / (x.shape[0] - 1)
        eigvals, eigvecs = np.linalg.eigh(cov)
        order = np.argsort(eigvals)[::-1][: self.components]
        basis = eigvecs[:, order]
        rows = np.abs(basis).argmax(axis=0)
        basis *= np.sign(basis[rows, np.arange(basis.shape[1])])[None, :]
        total = float(np.clip(eigvals, 0, None).sum())
        self.mean, self.basis, self.n_fit = mean, basis, int(x.shape[0])
        self.explained_variance_ratio = (
            round(float(np.clip(eigvals[order], 0, None).sum()) / total, 6) if total > 0 else 0.0
        )
        return self

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.basis is None:
            raise RuntimeError(f"teacher {self.name!r} requires fit(smiles) before embed()")
        x, mask = self.base.embed(smiles)
        mask = np.asarray(mask, dtype=bool)
        out = np.full((len(mask), self.dim), np.nan, dtype=np.float32)
        if mask.any():
            rows = np.asarray(x, dtype=np.float64)[mask]
            out[mask] = ((rows - self.mean) @ self.basis).astype(np.float32)
        return out, mask


def _resolve_projected(match: re.Match[str]) -> tuple[TeacherFactory, str]:
    base, components = match.group("base"), int(match.group("k"))
    family = teacher_family(base)
    if family is None:
        raise KeyError(f"unknown teacher {base!r} in {match.group(0)!r}")

    def factory(**kwargs: Any) -> ProjectedTeacher:
        return ProjectedTeacher(base, components, **kwargs)

    return factory, family


register_teacher_pattern(r"(?P<base>.+)-pca(?P<k>[1-9][0-9]*)", _resolve_projected)
