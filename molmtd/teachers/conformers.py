"""3D teachers on one shared conformer per molecule (family ``"3d"``).

Every teacher here featurises the conformer that :mod:`molmtd.teachers.conformer_step`
generates and caches (ETKDGv3 + MMFF94 at a fixed seed, shared across teachers in a
process); a molecule whose embedding fails is masked by every 3D teacher (status
``conformer_failed``). The conformer step's names (:func:`get_conformer`,
:data:`CONFORMER_CACHE`, :func:`prefetch_conformers`, ...) are re-exported here.
Imports: :mod:`molmtd.teachers.conformer_step`, :mod:`molmtd.teachers.fingerprints`,
:mod:`molmtd.teachers.base`; torchani and e3fp lazily.

Reports: each teacher's ``last_report`` (see :class:`~molmtd.teachers.fingerprints.MolTeacher`)
has ``n_conformer_failed`` and the MMFF outcome counts of the batch.

Registered names: ``ani`` (ANI-1x AEVs, 384 mean-pooled or 1,536 per-element), ``ani2x``
(ANI-2x AEVs incl. S/F/Cl, 1,008 or 7,056), ``usrcat``
(60), ``rdkit3d`` (639 robustly scaled 3D descriptors; needs ``fit``), ``e3fp`` (1,024 bits).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from molmtd.teachers.base import register_teacher
from molmtd.teachers.conformer_step import (
    CONFORMER_CACHE,
    MMFF_OUTCOMES,
    MMFF_PROP,
    ConformerCache,
    ConformerMixin,
    clear_conformer_cache,
    conformer_stats,
    generate_conformer,
    get_conformer,
    prefetch_conformers,
    set_conformer_cache_size,
    set_default_embed_timeout,
)
from molmtd.teachers.fingerprints import MolTeacher, RobustScaledTeacher

__all__ = [
    "CONFORMER_CACHE",
    "FAMILY",
    "MMFF_OUTCOMES",
    "MMFF_PROP",
    "ANI2xTeacher",
    "ANITeacher",
    "ConformerCache",
    "ConformerMixin",
    "E3FPTeacher",
    "RDKit3DTeacher",
    "USRCATTeacher",
    "clear_conformer_cache",
    "conformer_stats",
    "generate_conformer",
    "get_conformer",
    "prefetch_conformers",
    "set_conformer_cache_size",
    "set_default_embed_timeout",
]

FAMILY = "3d"


# ---------------------------------------------------------------------------------------
# ANI atomic environment vectors
# ---------------------------------------------------------------------------------------
def _torchani_resource(relative: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec("torchani")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("torchani==2.2.4 is needed for the 'ani' teacher")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "resources", relative)
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise FileNotFoundError(f"{path} missing: install torchani==2.2.4 (ships ANI-1x)")
    return path


ANI1X_CONSTANTS = "ani-1x_8x/rHCNO-5.2R_16-3.5A_a4-8.params"


def _import_torchani() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pkg_resources / optional-dependency notes
        import torchani
    return torchani


def _torchani_version() -> str:
    from importlib.metadata import version

    return version("torchani")


@register_teacher("ani", FAMILY)
class ANITeacher(ConformerMixin, MolTeacher):
    """ANI-1x atomic environment vectors (AEVs) of the conformer, pooled per molecule.

    The AEV computer is built offline from the ANI-1x constants packaged in torchani 2.2.4
    (``resources/ani-1x_8x/rHCNO-5.2R_16-3.5A_a4-8.params``: radial cutoff 5.2 Å,
    16 radial shifts, angular cutoff 3.5 Å, 4 x 8 angular terms) exactly as
    ``torchani.models.ANI1x`` does, without the download it attempts. Each atom (H included)
    gets a 384-d AEV (4 x 16 radial + 10 x 32 angular).

    Parameters
    ----------
    pooling
        ``"mean"``: mean of all atoms' AEVs (384). ``"element"``: for each element H, C, N, O
        the sum of that element's AEVs divided by the total atom count, concatenated
        (4 x 384 = 1,536; the four blocks sum to the mean pooling; an absent element's block
        is exactly 0 because it contributes nothing).
    seed, mmff, mmff_max_iters, embed_timeout
        Conformer parameters (see :func:`generate_conformer`; ``embed_timeout=None`` takes
        :func:`set_default_embed_timeout`'s value, initially 0 = no limit).

    Molecules with any element outside :attr:`ELEMENTS` are masked (status
    ``element_unsupported``): only about 40% of MOSES is pure H/C/N/O; see ``ani2x``.
    Formal charges are not seen by AEVs.
    """

    name = "ani"
    family = FAMILY
    reject_statuses = ("element_unsupported", "conformer_failed")
    aev_model = "ANI-1x"
    ELEMENTS: tuple[str, ...] = ("H", "C", "N", "O")
    AEV_DIM = 384

    def __init__(
        self,
        pooling: str = "mean",
        seed: int = 42,
        mmff: bool = True,
        mmff_max_iters: int = 2000,
        embed_timeout: int | None = None,
    ) -> None:
        super().__init__()
        if pooling not in ("mean", "element"):
            raise ValueError(f"pooling must be 'mean' or 'element', got {pooling!r}")
        self.pooling = pooling
        self.dim = self.AEV_DIM * (1 if pooling == "mean" else len(self.ELEMENTS))
        self._init_conformer(seed, mmff, mmff_max_iters, embed_timeout)

    def _params(self) -> dict[str, Any]:
        return {
            **super()._params(),
            "pooling": self.pooling,
            "aev": self.aev_model,
            "elements": list(self.ELEMENTS),
            "torchani": _torchani_version(),
        }

    @property
    def _species_index(self) -> dict[int, int]:
        from rdkit import Chem

        table = Chem.GetPeriodicTable()
        return {table.GetAtomicNumber(sym): i for i, sym in enumerate(self.ELEMENTS)}

    def _reject(self, mol: Any) -> str | None:
        allowed = self._species_index
        if any(a.GetAtomicNum() not in allowed for a in mol.GetAtoms()):
            return "element_unsupported"
        return None

    def build_aev_computer(self) -> Any:
        """The torchani ``AEVComputer`` (from the packaged ANI-1x constants)."""
        torchani = _import_torchani()
        consts = torchani.neurochem.Constants(_torchani_resource(ANI1X_CONSTANTS))
        if tuple(consts.species) != self.ELEMENTS:
            raise RuntimeError(f"unexpected ANI-1x species order {consts.species}")
        return torchani.AEVComputer(**consts)

    @property
    def _aev(self) -> Any:
        aev = getattr(self, "_lazy_aev", None)
        if aev is None:
            aev = self._lazy_aev = self.build_aev_computer()
            if aev.aev_length != self.AEV_DIM:
                raise RuntimeError(f"AEV length {aev.aev_length} != {self.AEV_DIM}")
        return aev

    def _featurize(self, mol: Any) -> np.ndarray:
        import torch

        index = self._species_index
        species = torch.tensor([[index[a.GetAtomicNum()] for a in mol.GetAtoms()]])
        coords = torch.tensor(mol.GetConformer().GetPositions(), dtype=torch.float32)[None]
        with torch.no_grad():
            aevs = self._aev((species, coords)).aevs[0].double().numpy()  # [atoms, AEV_DIM]
        if self.pooling == "mean":
            return aevs.mean(axis=0)
        sp = species[0].numpy()
        n = aevs.shape[0]
        return np.concatenate([aevs[sp == e].sum(axis=0) / n for e in range(len(self.ELEMENTS))])


@register_teacher("ani2x", FAMILY)
class ANI2xTeacher(ANITeacher):
    """ANI-2x AEVs (H, C, N, O, S, F, Cl): 1,008 per atom, pooled like ``ani``.

    torchani 2.2.4's wheel ships the ANI-2x resource files empty, so the AEV computer is
    built with ``AEVComputer.cover_linearly`` from the published ANI-2x hyperparameters
    (those of ``AEVComputer.like_2x`` in later torchani): radial cutoff 5.1 Å, eta 19.7,
    16 shifts from 0.8 Å; angular cutoff 3.5 Å, eta 12.5, zeta 14.1, 8 shifts from 0.8 Å,
    4 angle sections. AEVs are a fixed geometric featurisation (no trained weights), so
    this covers S/F/Cl-containing molecules (about 95% of MOSES) that ``ani`` masks.
    """

    name = "ani2x"
    aev_model = "ANI-2x"
    ELEMENTS = ("H", "C", "N", "O", "S", "F", "Cl")
    AEV_DIM = 1008

    def build_aev_computer(self) -> Any:
        torchani = _import_torchani()
        return torchani.AEVComputer.cover_linearly(
            radial_cutoff=5.1,
            angular_cutoff=3.5,
            radial_eta=19.7,
            angular_eta=12.5,
            radial_dist_divisions=16,
            angular_dist_divisions=8,
            zeta=14.1,
            angle_sections=4,
            num_species=len(self.ELEMENTS),
            angular_start=0.8,
            radial_start=0.8,
        )


# ---------------------------------------------------------------------------------------
# RDKit 3D descriptors
# ---------------------------------------------------------------------------------------
@register_teacher("usrcat", FAMILY)
class USRCATTeacher(ConformerMixin, MolTeacher):
    """USRCAT shape + pharmacophore moments (60) of the heavy atoms of the conformer."""

    name = "usrcat"
    family = FAMILY
    dim = 60

    def __init__(
        self,
        seed: int = 42,
        mmff: bool = True,
        mmff_max_iters: int = 2000,
        embed_timeout: int | None = None,
    ) -> None:
        super().__init__()
        self._init_conformer(seed, mmff, mmff_max_iters, embed_timeout)

    def _featurize(self, mol: Any) -> np.ndarray:
        from rdkit import Chem
        from rdkit.Chem import rdMolDescriptors

        return np.asarray(rdMolDescriptors.GetUSRCAT(Chem.RemoveHs(mol)), dtype=np.float64)


_RDKIT3D_BLOCKS = (("WHIM", 114), ("RDF", 210), ("MORSE", 224), ("AUTOCORR3D", 80))
_RDKIT3D_SCALARS = (
    "PMI1",
    "PMI2",
    "PMI3",
    "NPR1",
    "NPR2",
    "RadiusOfGyration",
    "InertialShapeFactor",
    "Eccentricity",
    "Asphericity",
    "SpherocityIndex",
    "PBF",
)


@register_teacher("rdkit3d", FAMILY)
class RDKit3DTeacher(ConformerMixin, RobustScaledTeacher):
    """RDKit 3D descriptors of the conformer (H included), robustly scaled like rdkit2d.

    WHIM (114) + RDF (210) + MORSE (224) + AUTOCORR3D (80) + PMI1-3, NPR1-2, radius of
    gyration, inertial shape factor, eccentricity, asphericity, spherocity index, PBF (11)
    = 639. Requires :meth:`fit`; scaling and the non-finite rule are those of
    :class:`~molmtd.teachers.fingerprints.RobustScaledTeacher`.
    """

    name = "rdkit3d"
    family = FAMILY

    def __init__(
        self,
        clip: float = 10.0,
        max_nonfinite_frac: float = 0.1,
        seed: int = 42,
        mmff: bool = True,
        mmff_max_iters: int = 2000,
        embed_timeout: int | None = None,
    ) -> None:
        super().__init__(clip=clip, max_nonfinite_frac=max_nonfinite_frac)
        self._init_conformer(seed, mmff, mmff_max_iters, embed_timeout)

    def descriptor_names(self) -> list[str]:
        names = [f"{block}_{i}" for block, n in _RDKIT3D_BLOCKS for i in range(n)]
        return names + list(_RDKIT3D_SCALARS)

    def raw(self, mol: Any) -> np.ndarray:
        from rdkit.Chem import rdMolDescriptors as rd

        parts: list[Any] = [
            rd.CalcWHIM(mol),
            rd.CalcRDF(mol),
            rd.CalcMORSE(mol),
            rd.CalcAUTOCORR3D(mol),
        ]
        scalars = [getattr(rd, f"Calc{name}")(mol) for name in _RDKIT3D_SCALARS]
        row = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts] + [scalars])
        if row.shape != (self.dim,):
            raise ValueError(f"rdkit3d: got {row.shape[0]} descriptors, expected {self.dim}")
        return row


# ---------------------------------------------------------------------------------------
# E3FP
# ---------------------------------------------------------------------------------------
def _e3fp_version() -> str:
    from importlib.metadata import version

    return version("e3fp")


@register_teacher("e3fp", FAMILY)
class E3FPTeacher(ConformerMixin, MolTeacher):
    """E3FP 3D extended-connectivity fingerprint of the conformer, folded to ``bits``.

    Uses the e3fp 1.2.7 defaults of Axen et al. 2017 (level 5, radius multiplier 1.718,
    stereo, duplicate substructures removed, floating atoms excluded).

    Parameters
    ----------
    bits
        Folded length (a power of 2; 1,024 or 2,048).
    counts
        Count fingerprint instead of bits (then ``log1p`` applies when ``log1p``).
    level, radius_multiplier, stereo
        E3FP parameters (maximum iterations, shell radius growth in Å, stereo-aware shell
        identifiers). ``stereo=False`` is faster but loses the 3D-specific part.
    """

    name = "e3fp"
    family = FAMILY

    def __init__(
        self,
        bits: int = 1024,
        counts: bool = False,
        log1p: bool = True,
        level: int = 5,
        radius_multiplier: float = 1.718,
        stereo: bool = True,
        seed: int = 42,
        mmff: bool = True,
        mmff_max_iters: int = 2000,
        embed_timeout: int | None = None,
    ) -> None:
        super().__init__()
        if bits <= 0 or bits & (bits - 1):
            raise ValueError(f"bits must be a power of 2, got {bits}")
        self.bits = int(bits)
        self.dim = self.bits
        self.counts = bool(counts)
        self.log1p = bool(log1p) and self.counts
        self.level = int(level)
        self.radius_multiplier = float(radius_multiplier)
        self.stereo = bool(stereo)
        self._init_conformer(seed, mmff, mmff_max_iters, embed_timeout)

    def _params(self) -> dict[str, Any]:
        return {
            **super()._params(),
            "bits": self.bits,
            "counts": self.counts,
            "log1p": self.log1p,
            "level": self.level,
            "radius_multiplier": self.radius_multiplier,
            "stereo": self.stereo,
            "e3fp": _e3fp_version(),
        }

    def _featurize(self, mol: Any) -> np.ndarray:
        from e3fp.fingerprint.fprinter import Fingerprinter

        # A fresh fingerprinter per molecule: e3fp's Fingerprinter skips re-initialisation
        # when handed the same Mol object again after a reset (cached conformers are
        # shared objects), which breaks the second call. Construction is cheap.
        fpr = Fingerprinter(
            bits=self.bits,
            level=self.level,
            radius_multiplier=self.radius_multiplier,
            stereo=self.stereo,
            counts=self.counts,
            include_disconnected=True,
            rdkit_invariants=False,
            exclude_floating=True,
            remove_duplicate_substructs=True,
        )
        fpr.run(conf=0, mol=mol)
        fp = fpr.get_fingerprint_at_level()
        row = np.zeros(self.dim, dtype=np.float64)
        if self.counts:
            for idx, c in fp.counts.items():
                row[int(idx)] = c
            return np.log1p(row) if self.log1p else row
        row[np.asarray(fp.indices, dtype=np.int64)] = 1.0
        return row
