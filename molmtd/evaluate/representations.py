"""Frozen representations for benchmarks, resolved from name strings, with an on-disk cache.

Spec strings (``--reps``):

- ``ecfp`` / ``ecfp2`` / ``ecfp6``: ECFP4 (radius 2) / radius 1 / radius 3 *raw* counts,
  2048 bins (the ``morgan`` teacher with ``log1p=False``; an RDKit fallback with the same
  definition is used if that teacher is not importable);
- any registered teacher name (``morgan``, ``maccs``, ``rdkit2d``, ...), default arguments;
  teachers with ``requires_fit`` (``rdkit2d``) are fitted on the task's *fit set* (see
  :func:`molmtd.evaluate.protocol.fit_rows`: TDC ``train_val.csv``, otherwise the train
  split), no labels involved;
- ``student:PATH``: ``molmtd.featurizer.Featurizer(model=PATH)``, imported lazily (PATH may
  also be a shipped model name such as ``default``); the cache key hashes the checkpoint
  files' content, so a retrained student at the same path is re-embedded (for a shipped
  name: the resolved model name and its weights' sha256);
- ``student-bf16:PATH``: the same student with ``Featurizer(precision="bfloat16")`` (its
  forward pass in bfloat16), to measure what the faster precision costs downstream;
- ``student-int8:PATH``: the same with ``Featurizer(precision="int8")`` (int8 dynamically
  quantised linear layers), for the same check;
- ``random-student[:CONFIG]``: a randomly initialised student of the same architecture
  (the control), through ``molmtd.random_student.random_featurizer(config)``;
- any of these with ``@none``, ``@largest_fragment`` or ``@parent`` appended
  (``student:default@parent``, ``ecfp@largest_fragment``): the molecules are standardised
  with :func:`molmtd.standardize.standardize_smiles` first (:class:`StandardizedRep`); a
  molecule that fails standardisation is an invalid row.

A representation is any object with ``name``, ``config`` and
``embed(smiles, fit_smiles=None) -> (X float32 [N, d] with NaN rows, mask bool [N])``;
plain callables ``smiles -> (X, mask)`` are wrapped by :class:`CallableRep`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.errors import UserError
from molmtd.utils import atomic_save_npy, config_hash, rdkit_quiet, write_json

log = logging.getLogger(__name__)

EmbedFn = Callable[[list[str]], tuple[np.ndarray, np.ndarray]]


def default_cache_dir() -> Path:
    """``$MOLMTD_CACHE_DIR/embeddings`` or ``~/.cache/molmtd/embeddings``."""
    root = os.environ.get("MOLMTD_CACHE_DIR") or Path.home() / ".cache" / "molmtd"
    return Path(root) / "embeddings"


class UnknownRepresentationError(UserError, KeyError):
    """A ``--reps`` spec that names no representation (one line on the command line)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class CallableRep:
    """Wrap a plain ``smiles -> (X, mask)`` callable as a representation."""

    requires_fit = False

    def __init__(self, fn: EmbedFn, name: str, config: dict[str, Any] | None = None) -> None:
        self.fn = fn
        self.name = name
        self.config = {"callable": name, **(config or {})}

    def embed(
        self, smiles: Sequence[str], fit_smiles: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        X, mask = self.fn(list(smiles))
        return np.asarray(X, dtype=np.float32), np.asarray(mask, dtype=bool)


class _ECFPFallback:
    """ECFP raw counts with RDKit's Morgan generator (used only without the teacher)."""

    def __init__(self, radius: int, fp_size: int) -> None:
        self.radius, self.fp_size, self.dim = radius, fp_size, fp_size

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        from rdkit import Chem
        from rdkit.Chem import rdFingerprintGenerator

        gen = rdFingerprintGenerator.GetMorganGenerator(radius=self.radius, fpSize=self.fp_size)
        X = np.full((len(smiles), self.fp_size), np.nan, dtype=np.float32)
        mask = np.zeros(len(smiles), dtype=bool)
        with rdkit_quiet():
            for i, smi in enumerate(smiles):
                mol = Chem.MolFromSmiles(smi)
                if mol is not None:
                    X[i] = gen.GetCountFingerprintAsNumPy(mol)
                    mask[i] = True
        return X, mask


class TeacherRep:
    """A teacher used as a frozen representation.

    For ``requires_fit`` teachers exposing ``raw_matrix``/``_fit_raw`` (the robust-scaled
    descriptor teachers), descriptors are computed once for all rows and the scaler is fitted
    on the fit-set rows of that matrix; the scaling rule is the teacher's (median/robust
    scale, clip, molecules with too many non-finite values masked, others imputed with the
    median).
    """

    def __init__(self, name: str, teacher: Any, spec: str, extra: dict | None = None) -> None:
        self.name = spec
        self.teacher = teacher
        self.requires_fit = bool(getattr(teacher, "requires_fit", False))
        cfg = dict(getattr(teacher, "config", {}) or {})
        # fitted statistics are not part of the identity: the fit set is keyed separately
        for key in ("median", "scale", "n_fit"):
            cfg.pop(key, None)
        self.config = {"rep": spec, "teacher": name, **cfg, **(extra or {})}
        # (SMILES digest, raw matrix, mask) of the last row list: see _raw_matrix
        self._raw_memo: tuple[str, np.ndarray, np.ndarray] | None = None

    def embed(
        self, smiles: Sequence[str], fit_smiles: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        smiles = list(smiles)
        t = self.teacher
        if not self.requires_fit:
            return t.embed(smiles)
        if fit_smiles is None:
            raise ValueError(f"{self.name} requires a fit set")
        if hasattr(t, "raw_matrix") and hasattr(t, "_fit_raw"):
            fit_set = set(fit_smiles)
            raw, mask = self._raw_matrix(smiles)
            rows = np.array([m and s in fit_set for s, m in zip(smiles, mask)], dtype=bool)
            t._fit_raw(raw[rows])
            bad = ~np.isfinite(raw)
            too_many = bad.mean(axis=1) > t.max_nonfinite_frac
            mask = mask & ~too_many
            filled = np.where(bad, t.median[None, :], raw)
            with np.errstate(over="ignore", invalid="ignore"):
                X = np.clip((filled - t.median) / t.scale, -t.clip, t.clip)
            X[~mask] = np.nan
            return X.astype(np.float32), mask
        t.fit(list(fit_smiles))
        return t.embed(smiles)

    def _raw_matrix(self, smiles: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The teacher's unscaled matrix, kept for the last list of SMILES.

        Raw descriptors do not depend on the fit set, while the scaled embedding does; a
        protocol with one fit set per seed (random splits) then computes them once per
        dataset instead of once per seed. One matrix is kept (HIV: 41k x 217 float64, 71 MB).
        """
        digest = hashlib.sha256("\n".join(smiles).encode()).hexdigest()
        memo = self._raw_memo
        if memo is None or memo[0] != digest:
            raw, mask = self.teacher.raw_matrix(smiles)
            memo = self._raw_memo = (digest, raw, mask)
        return memo[1].copy(), memo[2].copy()


def _shipped_model_identity(name: str) -> tuple[str, str]:
    """(resolved model name, weights sha256 prefix) of a shipped model, for the cache key.

    ``"default"`` resolves to the model it points to now, so a cached ``student:default``
    embedding is never served after the default changes. An unknown name is returned as is
    with an empty stamp (the error comes when embedding).
    """
    from molmtd.models import CARD_FILE, model_dir

    try:
        folder = model_dir(name, verify=False)  # resolves "default"; hashing comes at load
    except (KeyError, FileNotFoundError):
        return name, ""
    card = json.loads((folder / CARD_FILE).read_text())
    return folder.name, str(card["sha256"])[:16]


class StudentRep:
    """``student:PATH``: a trained student checkpoint through ``molmtd.featurizer``."""

    requires_fit = False

    def __init__(self, path: str, spec: str, precision: str = "float32") -> None:
        self.path = path
        self.name = spec
        self.precision = precision
        p = Path(path)
        if p.exists():
            files = sorted(p.rglob("*")) if p.is_dir() else [p]
            h = hashlib.sha256()
            for f in files:
                if f.is_file():
                    h.update(f.name.encode())
                    h.update(f.read_bytes())
            where, stamp = str(p.resolve()), h.hexdigest()[:16]
        else:
            where, stamp = _shipped_model_identity(path)
        self.config = {"rep": "student", "path": where, "content": stamp}
        if precision != "float32":  # float32 keys stay those of the caches made before
            self.config["precision"] = precision

    def embed(
        self, smiles: Sequence[str], fit_smiles: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        from molmtd.featurizer import Featurizer  # lazy: the student stack is optional here

        feat = Featurizer(model=self.path, on_error="nan", precision=self.precision)
        X = np.asarray(feat.transform(list(smiles)), dtype=np.float32)
        mask = np.isfinite(X).all(axis=1)
        valid = getattr(feat, "valid_mask_", None)
        if valid is not None:
            mask &= np.asarray(valid, dtype=bool)
        X[~mask] = np.nan
        return X, mask


class RandomStudentRep:
    """``random-student[:CONFIG]``: randomly initialised student (architecture control).

    Calls ``molmtd.random_student.random_featurizer(config)`` which must return an object with
    ``transform(smiles) -> [N, d]`` (NaN rows for invalid SMILES). If the featurizer
    module cannot provide it, using this spec raises ``NotImplementedError``.
    """

    requires_fit = False

    def __init__(self, config: str | None, spec: str) -> None:
        self.name = spec
        self.cfg = config
        self.config = {"rep": "random-student", "config": config}

    def embed(
        self, smiles: Sequence[str], fit_smiles: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        try:
            from molmtd.random_student import random_featurizer  # type: ignore[attr-defined]
        except ImportError as err:
            raise NotImplementedError(
                "random-student needs molmtd.random_student.random_featurizer(config)"
            ) from err
        X = np.asarray(random_featurizer(self.cfg).transform(list(smiles)), dtype=np.float32)
        mask = np.isfinite(X).all(axis=1)
        X[~mask] = np.nan
        return X, mask


class StandardizedRep:
    """``REP@MODE``: ``REP`` on standardised molecules (:mod:`molmtd.standardize`).

    Rows stay aligned with the input; its configuration is the inner one plus
    ``"standardize"``, so its cache never mixes with the unstandardised one.
    """

    def __init__(self, inner: Any, mode: str, spec: str) -> None:
        from molmtd.standardize import check_mode

        self.inner = inner
        self.mode = check_mode(mode)
        self.name = spec
        self.requires_fit = bool(getattr(inner, "requires_fit", False))
        self.config = {**inner.config, "standardize": self.mode}

    def _standardized(self, smiles: Sequence[str]) -> list[str | None]:
        from molmtd.standardize import standardize_smiles

        return [standardize_smiles(s, self.mode) for s in smiles]

    def embed(
        self, smiles: Sequence[str], fit_smiles: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        std = self._standardized(smiles)
        ok = np.array([s is not None for s in std], dtype=bool)
        fit = None
        if fit_smiles is not None:
            fit = [s for s in self._standardized(fit_smiles) if s is not None]
        Xv, mv = self.inner.embed([s for s in std if s is not None], fit_smiles=fit)
        Xv = np.asarray(Xv, dtype=np.float32)
        X = np.full((len(std), Xv.shape[1]), np.nan, dtype=np.float32)
        mask = np.zeros(len(std), dtype=bool)
        X[ok], mask[ok] = Xv, np.asarray(mv, dtype=bool)
        return X, mask


def _split_standardize(spec: str) -> tuple[str, str | None]:
    """``"REP@MODE"`` -> ``("REP", "MODE")`` for a standardisation mode; else ``(spec, None)``."""
    from molmtd.standardize import MODES

    head, sep, tail = spec.rpartition("@")
    if sep and tail in MODES:
        return head, tail
    return spec, None


_ECFP_RADIUS = {"ecfp": 2, "ecfp4": 2, "ecfp2": 1, "ecfp6": 3}


def get_representation(spec: str) -> Any:
    """Resolve a spec string (module docstring) to a representation object."""
    spec = spec.strip()
    inner, mode = _split_standardize(spec)
    if mode is not None:
        return StandardizedRep(get_representation(inner), mode, spec)
    if spec.startswith("student:"):
        return StudentRep(spec.split(":", 1)[1], spec)
    if spec.startswith("student-bf16:"):
        return StudentRep(spec.split(":", 1)[1], spec, precision="bfloat16")
    if spec.startswith("student-int8:"):
        return StudentRep(spec.split(":", 1)[1], spec, precision="int8")
    if spec == "random-student" or spec.startswith("random-student:"):
        cfg = spec.split(":", 1)[1] if ":" in spec else None
        return RandomStudentRep(cfg, spec)
    if spec in _ECFP_RADIUS:
        radius = _ECFP_RADIUS[spec]
        try:
            from molmtd.teachers import get_teacher

            teacher = get_teacher("morgan", radius=radius, fp_size=2048, log1p=False)
        except (ImportError, KeyError, TypeError):
            teacher = _ECFPFallback(radius, 2048)
        # identity = the definition, whichever implementation computes it
        rep = TeacherRep("morgan", teacher, spec)
        rep.config = {"rep": "ecfp", "radius": radius, "fp_size": 2048, "counts": True}
        return rep
    from molmtd.teachers import get_teacher, list_teachers

    known = list_teachers()
    if spec not in known:
        raise UnknownRepresentationError(
            f"unknown representation {spec!r}; known: ecfp, ecfp2, ecfp6, student:PATH, "
            f"student-bf16:PATH, "
            f"random-student[:CONFIG], teachers {sorted(known)}"
        )
    return TeacherRep(spec, get_teacher(spec), spec)


def _rep_id(rep: Any) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(rep.name))[:40]
    return f"{safe}-{config_hash(rep.config)}"


def cached_embed(
    rep: Any,
    smiles: Sequence[str],
    dataset_key: str,
    fit_smiles: Sequence[str] | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Embed ``smiles`` with ``rep``, reading/writing ``.npy`` files in the cache.

    Unique SMILES are embedded once and mapped back, so the output rows align 1:1 with
    ``smiles`` (duplicates get identical rows). Key: representation config hash, dataset
    key, and (for fitted representations) a hash of the fit set.

    Returns
    -------
    X, mask, hit
        Embeddings [N, d] (NaN rows where ``mask`` is False) and whether the cache was hit.
    """
    smiles = list(smiles)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = dataset_key
    if getattr(rep, "requires_fit", False):
        if fit_smiles is None:
            raise ValueError(f"{rep.name} requires fit_smiles")
        fit_digest = hashlib.sha256("\n".join(sorted(set(fit_smiles))).encode()).hexdigest()
        key += f"__fit{fit_digest[:12]}"
    folder = root / _rep_id(rep) / key
    x_path, m_path = folder / "X.npy", folder / "mask.npy"
    rows_digest = hashlib.sha256("\n".join(smiles).encode()).hexdigest()
    meta_path = folder / "meta.json"
    if x_path.is_file() and m_path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("rows_sha256") == rows_digest:
            return np.load(x_path), np.load(m_path), True
    uniq, inverse = np.unique(np.asarray(smiles, dtype=object).astype(str), return_inverse=True)
    Xu, mu = rep.embed(list(uniq), fit_smiles=fit_smiles)
    Xu = np.asarray(Xu, dtype=np.float32)
    mu = np.asarray(mu, dtype=bool)
    if Xu.shape[0] != len(uniq) or mu.shape != (len(uniq),):
        raise ValueError(f"{rep.name}: embed returned {Xu.shape}/{mu.shape} for {len(uniq)} rows")
    X, mask = Xu[inverse], mu[inverse]
    atomic_save_npy(x_path, X)
    atomic_save_npy(m_path, mask)
    meta = {"rep": rep.name, "config": rep.config, "dataset": dataset_key, "rows": len(smiles),
            "rows_sha256": rows_digest, "n_invalid": int((~mask).sum())}  # fmt: skip
    write_json(meta_path, meta, indent=1, sort_keys=False)  # last: marks the cache complete
    return X, mask, False
