"""RDKit fingerprint and descriptor teachers (family ``"fingerprint"``).

Every teacher here is a :class:`MolTeacher`: SMILES are parsed once per call, each valid
molecule is featurised, and a molecule that does not parse or whose featurisation raises
gets a NaN row and ``mask=False`` (the rest of the batch is unaffected, rows keep their
order). :class:`MolTeacher` is also the base of the 3D teachers in
:mod:`molmtd.teachers.conformers`, which only swap how a SMILES becomes an RDKit ``Mol``.

Registered names: ``morgan``, ``featmorgan``, ``atompair``, ``torsion`` (count fingerprints,
2048), ``maccs`` (167), ``avalon`` (1024), ``erg`` (315), ``rdkit2d`` (217 robustly scaled
descriptors, needs :meth:`RDKit2DTeacher.fit`). See ``docs/teachers_fingerprints_3d.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from molmtd.teachers.base import BaseTeacher, nan_rows, register_teacher
from molmtd.utils import parse_mol, rdkit_quiet

log = logging.getLogger(__name__)

FAMILY = "fingerprint"


def rdkit_version() -> str:
    """The installed RDKit version (recorded in every teacher config)."""
    import rdkit

    return str(rdkit.__version__)


class MolTeacher(BaseTeacher):
    """Shared parse + featurise loop for RDKit-based teachers.

    Subclasses implement :meth:`_featurize` (one ``Mol`` to a 1-D array of length ``dim``)
    and :meth:`_params`; they may override :meth:`_mol_from_smiles` (the 3D teachers return
    a molecule with a conformer) or :meth:`_featurize_many` (batched featurisation).

    After each :meth:`embed` call, ``last_report`` holds counts for the batch:
    ``n``, ``n_valid``, ``n_invalid_smiles`` (did not parse), ``n_unsupported`` (parsed but
    rejected by the teacher, e.g. a conformer failure or an element ANI does not know; also
    broken down as ``n_<status>``), ``n_failed`` (featurisation raised or gave non-finite
    values). Invariant: ``n == n_valid + n_invalid_smiles + n_unsupported + n_failed``.
    """

    family: str = FAMILY
    #: Statuses (besides "ok"/"invalid_smiles") :meth:`_mol_from_smiles` may return; each is
    #: always reported as ``last_report["n_<status>"]``.
    reject_statuses: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.last_report: dict[str, Any] = {}

    # -- hooks -------------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        """Parameters that determine the output (part of :attr:`config`)."""
        return {}

    def _mol_from_smiles(self, smiles: str) -> tuple[Any | None, str]:
        """SMILES to the ``Mol`` handed to :meth:`_featurize`, plus a status string.

        Status is ``"ok"``, ``"invalid_smiles"`` or one of :attr:`reject_statuses`.
        """
        mol = parse_mol(smiles)
        return (mol, "ok") if mol is not None else (None, "invalid_smiles")

    def _featurize(self, mol: Any) -> np.ndarray:
        raise NotImplementedError

    def _report_mols(self, mols: list[Any]) -> dict[str, Any]:
        """Extra :attr:`last_report` entries computed from the batch's molecules."""
        return {}

    def _featurize_many(self, mols: list[Any], out: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
        """Fill ``out[i]`` and ``mask[i]`` for every index whose ``mols[i]`` is not None.

        Returns extra entries for :attr:`last_report`.
        """
        for i, mol in enumerate(mols):
            if mol is None:
                continue
            try:
                row = np.asarray(self._featurize(mol), dtype=np.float64)
            except Exception as err:  # one bad molecule must not sink the batch
                log.debug("%s: featurisation failed for row %d: %s", self.name, i, err)
                continue
            if row.shape != (self.dim,):
                raise ValueError(f"{self.name}: featurised width {row.shape} != dim {self.dim}")
            if not np.all(np.isfinite(row)):
                continue
            out[i] = row
            mask[i] = True
        return {}

    # -- public API --------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        return {"teacher": self.name, "dim": self.dim, "rdkit": rdkit_version(), **self._params()}

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embed a batch of SMILES.

        Returns
        -------
        X : float32 array [N, dim]
            NaN rows where ``mask`` is False.
        mask : bool array [N]
        """
        smiles = list(smiles)
        n = len(smiles)
        mols: list[Any] = []
        status_counts = dict.fromkeys(("ok", "invalid_smiles", *self.reject_statuses), 0)
        out = nan_rows(n, self.dim).astype(np.float64)
        mask = np.zeros(n, dtype=bool)
        with rdkit_quiet():
            for smi in smiles:
                mol, status = self._mol_from_smiles(smi)
                status_counts[status] = status_counts.get(status, 0) + 1
                mols.append(mol if status == "ok" else None)
            extra = self._featurize_many(mols, out, mask)
        out[~mask] = np.nan
        n_valid = int(mask.sum())
        rejected = {k: v for k, v in status_counts.items() if k not in ("ok", "invalid_smiles")}
        self.last_report = {
            "n": n,
            "n_valid": n_valid,
            "n_invalid_smiles": status_counts["invalid_smiles"],
            "n_unsupported": sum(rejected.values()),
            "n_failed": status_counts["ok"] - n_valid,
            **{f"n_{k}": v for k, v in rejected.items()},
            **self._report_mols(mols),
            **extra,
        }
        return out.astype(np.float32), mask


# ---------------------------------------------------------------------------------------
# Count fingerprints from rdFingerprintGenerator
# ---------------------------------------------------------------------------------------
class CountFingerprintTeacher(MolTeacher):
    """Folded count fingerprint from ``rdFingerprintGenerator`` (optionally ``log1p``).

    Parameters
    ----------
    fp_size
        Number of folded count bins.
    log1p
        Apply ``log1p`` to the counts (default True: tames heavy-tailed counts of common
        substructures such as aromatic carbons).
    """

    kind: str = ""

    def __init__(self, fp_size: int = 2048, log1p: bool = True) -> None:
        super().__init__()
        self.fp_size = int(fp_size)
        self.dim = self.fp_size
        self.log1p = bool(log1p)

    def _params(self) -> dict[str, Any]:
        return {"kind": self.kind, "fp_size": self.fp_size, "log1p": self.log1p}

    def _make_generator(self) -> Any:
        raise NotImplementedError

    @property
    def _generator(self) -> Any:
        gen = getattr(self, "_lazy_generator", None)
        if gen is None:
            gen = self._lazy_generator = self._make_generator()
        return gen

    def _featurize(self, mol: Any) -> np.ndarray:
        counts = self._generator.GetCountFingerprintAsNumPy(mol).astype(np.float64)
        return np.log1p(counts) if self.log1p else counts


@register_teacher("morgan", FAMILY)
class MorganTeacher(CountFingerprintTeacher):
    """Morgan (ECFP-like) counts, radius 2, folded to 2048."""

    name = "morgan"
    kind = "morgan"

    def __init__(self, radius: int = 2, fp_size: int = 2048, log1p: bool = True) -> None:
        super().__init__(fp_size=fp_size, log1p=log1p)
        self.radius = int(radius)

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "radius": self.radius}

    def _make_generator(self) -> Any:
        from rdkit.Chem import rdFingerprintGenerator as rfg

        return rfg.GetMorganGenerator(radius=self.radius, fpSize=self.fp_size)


@register_teacher("featmorgan", FAMILY)
class FeatMorganTeacher(MorganTeacher):
    """Morgan counts with pharmacophoric feature invariants (FCFP-like), radius 2, 2048."""

    name = "featmorgan"
    kind = "featmorgan"

    def _make_generator(self) -> Any:
        from rdkit.Chem import rdFingerprintGenerator as rfg

        return rfg.GetMorganGenerator(
            radius=self.radius,
            fpSize=self.fp_size,
            atomInvariantsGenerator=rfg.GetMorganFeatureAtomInvGen(),
        )


@register_teacher("atompair", FAMILY)
class AtomPairTeacher(CountFingerprintTeacher):
    """Atom-pair counts folded to 2048."""

    name = "atompair"
    kind = "atompair"

    def _make_generator(self) -> Any:
        from rdkit.Chem import rdFingerprintGenerator as rfg

        return rfg.GetAtomPairGenerator(fpSize=self.fp_size)


@register_teacher("torsion", FAMILY)
class TorsionTeacher(CountFingerprintTeacher):
    """Topological-torsion counts folded to 2048."""

    name = "torsion"
    kind = "torsion"

    def _make_generator(self) -> Any:
        from rdkit.Chem import rdFingerprintGenerator as rfg

        return rfg.GetTopologicalTorsionGenerator(fpSize=self.fp_size)


# ---------------------------------------------------------------------------------------
# Other RDKit fingerprints
# ---------------------------------------------------------------------------------------
def _bitvect_to_numpy(vect: Any, size: int) -> np.ndarray:
    from rdkit import DataStructs

    arr = np.zeros(size, dtype=np.float64)
    DataStructs.ConvertToNumpyArray(vect, arr)
    return arr


@register_teacher("maccs", FAMILY)
class MACCSTeacher(MolTeacher):
    """The 166 MACCS structural keys (167 bits; bit 0 is always 0 by RDKit convention)."""

    name = "maccs"
    dim = 167

    def _featurize(self, mol: Any) -> np.ndarray:
        from rdkit.Chem import MACCSkeys

        return _bitvect_to_numpy(MACCSkeys.GenMACCSKeys(mol), self.dim)


@register_teacher("avalon", FAMILY)
class AvalonTeacher(MolTeacher):
    """Avalon fingerprint (counts by default, ``log1p`` optional), 1024."""

    name = "avalon"

    def __init__(self, fp_size: int = 1024, counts: bool = True, log1p: bool = True) -> None:
        super().__init__()
        self.fp_size = int(fp_size)
        self.dim = self.fp_size
        self.counts = bool(counts)
        self.log1p = bool(log1p) and self.counts

    def _params(self) -> dict[str, Any]:
        return {"fp_size": self.fp_size, "counts": self.counts, "log1p": self.log1p}

    def _featurize(self, mol: Any) -> np.ndarray:
        from rdkit.Avalon import pyAvalonTools

        if self.counts:
            arr = _bitvect_to_numpy(
                pyAvalonTools.GetAvalonCountFP(mol, nBits=self.fp_size), self.dim
            )
            return np.log1p(arr) if self.log1p else arr
        return _bitvect_to_numpy(pyAvalonTools.GetAvalonFP(mol, nBits=self.fp_size), self.dim)


@register_teacher("erg", FAMILY)
class ErGTeacher(MolTeacher):
    """Extended reduced-graph (ErG) pharmacophore-pair fingerprint, 315 floats."""

    name = "erg"
    dim = 315

    def _featurize(self, mol: Any) -> np.ndarray:
        from rdkit.Chem import rdReducedGraphs

        return np.asarray(rdReducedGraphs.GetErGFingerprint(mol), dtype=np.float64)


# ---------------------------------------------------------------------------------------
# Robustly scaled descriptor vectors (rdkit2d here, rdkit3d in conformers.py)
# ---------------------------------------------------------------------------------------
class RobustScaledTeacher(MolTeacher):
    """A descriptor vector scaled with statistics fitted on a corpus.

    Scaling (fitted per descriptor by :meth:`fit`): ``z = (x - median) / scale``, clipped to
    ``[-clip, clip]``. ``scale`` is IQR / 1.349 (the normal-consistent IQR); where the IQR
    is 0 (a descriptor constant on more than half the corpus) it falls back to the standard
    deviation of the values winsorised to the 0.5-99.5 percentiles; where that is also 0
    (constant descriptor) the scale is 1, so the output is 0 for the constant value.

    Non-finite descriptor values (RDKit returns NaN/inf for a few descriptors on some
    molecules, or raises): if more than ``max_nonfinite_frac`` of a molecule's descriptors
    are non-finite, the molecule is masked (NaN row, ``mask=False``). Otherwise each
    non-finite value is imputed with the fitted median (0 after scaling) and counted:
    ``last_report["n_imputed_values"]``, ``last_report["n_imputed_molecules"]`` and
    ``last_report["imputed_per_descriptor"]`` (name -> count, only non-zero entries) for the
    last batch, and ``imputation_totals`` (name -> count) accumulated over the teacher's
    life in this process. Fitting ignores non-finite values per descriptor.

    Parameters
    ----------
    clip
        Absolute bound of the scaled values.
    max_nonfinite_frac
        Largest fraction of non-finite descriptors a molecule may have and still be embedded.
    """

    requires_fit = True

    def __init__(self, clip: float = 10.0, max_nonfinite_frac: float = 0.1) -> None:
        super().__init__()
        self.clip = float(clip)
        self.max_nonfinite_frac = float(max_nonfinite_frac)
        self.names = self.descriptor_names()
        self.dim = len(self.names)
        self.median: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.n_fit: int = 0
        self.imputation_totals: dict[str, int] = {}

    def descriptor_names(self) -> list[str]:
        raise NotImplementedError

    def raw(self, mol: Any) -> np.ndarray:
        """Unscaled descriptor vector (float64, may contain NaN/inf)."""
        raise NotImplementedError

    @property
    def is_fitted(self) -> bool:
        return self.median is not None

    def _params(self) -> dict[str, Any]:
        return {
            "descriptors": self.names,
            "clip": self.clip,
            "max_nonfinite_frac": self.max_nonfinite_frac,
            "n_fit": self.n_fit,
            "median": None if self.median is None else [float(v) for v in self.median],
            "scale": None if self.scale is None else [float(v) for v in self.scale],
        }

    def raw_matrix(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unscaled descriptors for a batch: (float64 [N, dim] with NaN for non-finite, mask).

        ``mask`` is False where the molecule is unusable (invalid SMILES, unsupported,
        featurisation raised).
        """
        smiles = list(smiles)
        out = np.full((len(smiles), self.dim), np.nan)
        mask = np.zeros(len(smiles), dtype=bool)
        with rdkit_quiet():
            for i, smi in enumerate(smiles):
                mol, status = self._mol_from_smiles(smi)
                if status != "ok":
                    continue
                try:
                    row = np.asarray(self.raw(mol), dtype=np.float64)
                except Exception as err:
                    log.debug("%s: descriptors failed for row %d: %s", self.name, i, err)
                    continue
                row[~np.isfinite(row)] = np.nan
                out[i] = row
                mask[i] = True
        return out, mask

    def fit(self, smiles: Sequence[str]) -> RobustScaledTeacher:
        """Fit per-descriptor median and robust scale on ``smiles`` (see class docstring)."""
        raw, mask = self.raw_matrix(smiles)
        self._fit_raw(raw[mask])
        return self

    def _fit_raw(self, raw: np.ndarray) -> None:
        if raw.shape[0] < 2:
            raise ValueError(
                f"{self.name}: need at least 2 valid molecules to fit, got {raw.shape[0]}"
            )
        median = np.zeros(self.dim)
        scale = np.ones(self.dim)
        for j in range(self.dim):
            col = raw[:, j]
            col = col[np.isfinite(col)]
            if col.size == 0:
                continue  # never finite on the corpus: median 0, scale 1
            median[j] = np.median(col)
            q1, q3 = np.percentile(col, [25, 75])
            s = (q3 - q1) / 1.349
            if not s > 0:
                lo, hi = np.percentile(col, [0.5, 99.5])
                s = float(np.std(np.clip(col, lo, hi)))
            if not (s > 0 and np.isfinite(s)):
                s = 1.0
            scale[j] = s
        self.median, self.scale, self.n_fit = median, scale, int(raw.shape[0])

    def _featurize_many(self, mols: list[Any], out: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
        if not self.is_fitted:
            raise RuntimeError(f"teacher {self.name!r} requires fit(smiles) before embed()")
        assert self.median is not None and self.scale is not None
        imputed = np.zeros(self.dim, dtype=np.int64)
        n_imp_mols = 0
        n_too_many = 0
        for i, mol in enumerate(mols):
            if mol is None:
                continue
            try:
                row = np.asarray(self.raw(mol), dtype=np.float64)
            except Exception as err:
                log.debug("%s: descriptors failed for row %d: %s", self.name, i, err)
                continue
            bad = ~np.isfinite(row)
            if bad.mean() > self.max_nonfinite_frac:
                n_too_many += 1
                continue
            if bad.any():
                row[bad] = self.median[bad]
                imputed += bad
                n_imp_mols += 1
            with np.errstate(over="ignore", invalid="ignore"):
                out[i] = np.clip((row - self.median) / self.scale, -self.clip, self.clip)
            mask[i] = True
        per_desc = {self.names[j]: int(c) for j, c in enumerate(imputed) if c}
        for k, c in per_desc.items():
            self.imputation_totals[k] = self.imputation_totals.get(k, 0) + c
        if per_desc:
            log.info(
                "%s: imputed %d non-finite values in %d molecules: %s",
                self.name,
                int(imputed.sum()),
                n_imp_mols,
                per_desc,
            )
        return {
            "n_imputed_values": int(imputed.sum()),
            "n_imputed_molecules": n_imp_mols,
            "n_too_many_nonfinite": n_too_many,
            "imputed_per_descriptor": per_desc,
        }


@register_teacher("rdkit2d", FAMILY)
class RDKit2DTeacher(RobustScaledTeacher):
    """All RDKit 2D descriptors (``Descriptors._descList``, 217 in RDKit 2024-2026), robustly
    scaled and clipped; see :class:`RobustScaledTeacher`. Requires :meth:`fit`."""

    name = "rdkit2d"

    def descriptor_names(self) -> list[str]:
        from rdkit.Chem import Descriptors

        return [name for name, _ in Descriptors._descList]

    @property
    def _functions(self) -> list[Any]:
        fns = getattr(self, "_lazy_functions", None)
        if fns is None:
            from rdkit.Chem import Descriptors

            table = dict(Descriptors._descList)
            fns = self._lazy_functions = [table[name] for name in self.names]
        return fns

    def raw(self, mol: Any) -> np.ndarray:
        row = np.empty(self.dim)
        for j, fn in enumerate(self._functions):
            try:
                row[j] = float(fn(mol))
            except Exception:  # counted as non-finite (imputed or masking)
                row[j] = np.nan
        return row
